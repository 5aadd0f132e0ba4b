package bench

import (
	"fmt"
	"strings"
)

// barWidth is the width of the progress bar, in cells between its brackets.
const barWidth = 24

// bar draws done of total as "[#########...............]  37%", for the
// live line on a terminal; done is clamped to total (a phase may count a
// little past its estimate). Without a total there is no bar.
func bar(done, total int64) string {
	if total <= 0 {
		return ""
	}
	done = min(max(done, 0), total)
	filled := int(done * barWidth / total)
	return fmt.Sprintf("[%s%s] %3d%%", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), done*100/total)
}
