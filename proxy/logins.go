package proxy

// Passwords given up front, each bound to the onion address it is for
// (PROTOCOL.md §12.2, the client). The --password-file format:
//
//	# comment
//	ADDRESS.onion USER PASSWORD
//
// one login per line, fields separated by blanks; PASSWORD is the rest of
// the line after the blanks that follow USER (it may hold spaces, not
// begin with one). The file must be private to its owner (mode 0600). A
// bare password, as the file held before passwords were bound, is refused
// unless --password-for names its address (`onion client ADDRESS` binds
// it to ADDRESS).

import (
	"errors"
	"fmt"
	"strings"

	"onion/onion"
)

// maxLogins bounds a password file.
const maxLogins = 10000

// Logins are passwords bound to addresses: ADDRESS.onion -> user ->
// password. The user "" stands for any user name the request gives.
type Logins map[string]map[string]string

// password is the password stored for user at host: its own, else one
// stored for any user there.
func (l Logins) password(host, user string) (string, bool) {
	if pw, ok := l[host][user]; ok {
		return pw, true
	}
	pw, ok := l[host][""]
	return pw, ok
}

// onlyUser is the user name stored for host when there is exactly one.
func (l Logins) onlyUser(host string) string {
	if len(l[host]) != 1 {
		return ""
	}
	for u := range l[host] {
		return u
	}
	return ""
}

// add binds password to user ("": any) at address.
func (l Logins) add(address, user, password string) error {
	host := strings.ToLower(address)
	if _, err := onion.ParseAddress(host); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	if user != "" {
		if err := onion.CheckUserName(user); err != nil {
			return err
		}
	}
	if password == "" {
		return errors.New("empty password")
	}
	if _, dup := l[host][user]; dup {
		return fmt.Errorf("a password for %q at %s is given twice", user, host)
	}
	if l[host] == nil {
		l[host] = make(map[string]string)
	}
	l[host][user] = password
	return nil
}

// LoadLogins gathers the passwords given up front: the password file
// (ADDRESS.onion USER PASSWORD lines), and env (ONION_PASSWORD) for the
// address boundTo. With boundTo set, a file whose first line is not such a
// line holds one bare password for boundTo instead. user (--user, may be
// "") is the user name of a bare password. A password without an address
// is refused.
func LoadLogins(file, env, boundTo, user string) (Logins, error) {
	l := Logins{}
	if file != "" {
		if err := l.addFile(file, boundTo, user); err != nil {
			return nil, err
		}
	}
	if env == "" {
		return l, nil
	}
	if boundTo == "" {
		return nil, errors.New("ONION_PASSWORD is set but not the address it is for: a password is sent only to its own service; set ONION_PASSWORD_FOR=ADDRESS.onion (or --password-for), or put `ADDRESS.onion USER PASSWORD` lines in a --password-file")
	}
	if _, given := l[strings.ToLower(boundTo)][user]; given {
		return l, nil // the file's password for the same login wins, as before
	}
	if err := l.add(boundTo, user, env); err != nil {
		return nil, fmt.Errorf("ONION_PASSWORD for %s: %w", boundTo, err)
	}
	return l, nil
}

// addFile adds a password file's logins: its lines, or with boundTo set
// and a first login line that does not start with an onion address, its
// first line as a bare password for boundTo.
func (l Logins) addFile(path, boundTo, user string) error {
	text, err := readPrivate("password file", path)
	if err != nil {
		return err
	}
	lines := strings.Split(text, "\n")
	if boundTo == "" || bindsAddresses(lines) {
		if err := l.addLines(lines); err != nil {
			return fmt.Errorf("password file %s: %w", path, err)
		}
		return nil
	}
	if err := l.add(boundTo, user, strings.TrimRight(lines[0], "\r")); err != nil {
		return fmt.Errorf("--password-file for %s: %w", boundTo, err)
	}
	return nil
}

// loginLine reports whether a line holds a login: not blank, no comment.
func loginLine(line string) bool {
	t := strings.TrimSpace(line)
	return t != "" && !strings.HasPrefix(t, "#")
}

// bindsAddresses reports whether the first login line starts with an
// onion address: a file of logins, not a bare password.
func bindsAddresses(lines []string) bool {
	for _, line := range lines {
		if loginLine(line) {
			addr, _ := cutField(line)
			return onion.IsOnionHost(addr)
		}
	}
	return false
}

// addLines adds the logins of a password file. Its errors name the line,
// never its content: a line may be a password.
func (l Logins) addLines(lines []string) error {
	n := 0
	for i, line := range lines {
		if !loginLine(line) {
			continue
		}
		if n++; n > maxLogins {
			return fmt.Errorf("more than %d logins", maxLogins)
		}
		if err := l.addLine(strings.TrimRight(line, "\r")); err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	if n == 0 {
		return errors.New("no login in it (want `ADDRESS.onion USER PASSWORD` lines)")
	}
	return nil
}

func (l Logins) addLine(line string) error {
	addr, rest := cutField(line)
	user, pw := cutField(rest)
	if user == "" || pw == "" {
		return errors.New("want `ADDRESS.onion USER PASSWORD`: a password is bound to the address it is for " +
			"(a file holding only a bare password needs --password-for ADDRESS.onion)")
	}
	if _, err := onion.ParseAddress(strings.ToLower(addr)); err != nil {
		return errors.New("the first field is not an onion address: want `ADDRESS.onion USER PASSWORD`")
	}
	return l.add(addr, user, pw)
}

// cutField splits s after its first field, dropping the blanks (spaces,
// tabs) around that field.
func cutField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}
