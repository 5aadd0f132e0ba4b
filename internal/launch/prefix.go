package launch

import "fmt"

// palette holds ANSI foreground colours that read well on dark and light
// terminals; red is left out so that it does not look like an error.
var palette = []int{36, 32, 33, 35, 34, 96, 92, 93, 95, 94}

// Prefix returns the label put before each line of a child's output: name
// padded to width, then "| ". With colour, the label is drawn in the i-th
// colour of a fixed palette, so that each component keeps its colour.
func Prefix(name string, width, i int, colour bool) string {
	label := fmt.Sprintf("%-*s| ", width, name)
	if !colour {
		return label
	}
	return fmt.Sprintf("\x1b[%dm%s\x1b[0m", palette[i%len(palette)], label)
}

// PrefixWidth returns the width that aligns every name in names, plus a space.
func PrefixWidth(names ...string) int {
	w := 0
	for _, n := range names {
		w = max(w, len(n))
	}
	return w + 1
}
