package main

import (
	"fmt"
	"net/http"

	"github.com/urfave/cli/v2"

	"onion/client"
	"onion/directory"
	"onion/hiddenserver"
	"onion/onion"
)

// directoryFlagDefs are --directory and --directory-key, for the commands
// that use the network. Each may be repeated or given as a comma list, one
// URL and one key per directory authority, in the same order; one of each
// is a network with a single directory. required is false where a
// subcommand must not inherit them (urfave/cli would demand them of it
// too); the command then checks them itself.
func directoryFlagDefs(required bool) []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "directory", Usage: "directory authority URL, e.g. http://127.0.0.1:7000 (repeat, or a comma list, for several authorities)", Required: required, EnvVars: []string{"ONION_DIRECTORY"}},
		&cli.StringSliceFlag{Name: "directory-key", Usage: "each authority's public `KEY`, as printed by onion directory (also in its directory.pub), in the order of --directory; a relay list counts only when signed by a majority of them", Required: required, EnvVars: []string{"ONION_DIRECTORY_KEY"}},
	}
}

// verifiedDirectory is the set of authorities a client-side command uses:
// relay lists checked against a majority of --directory-key. URL is the
// first authority's.
type verifiedDirectory struct {
	*directory.Authorities
	URL string
}

// directoryFlags reads --directory and --directory-key.
func directoryFlags(c *cli.Context) (verifiedDirectory, error) {
	list, err := authorityFlags(c.StringSlice("directory"), c.StringSlice("directory-key"), "directory")
	if err != nil {
		return verifiedDirectory{}, err
	}
	a := directory.NewAuthorities(list)
	if a.Logger, err = newLogger(c, c.Command.Name); err != nil {
		return verifiedDirectory{}, err
	}
	return verifiedDirectory{Authorities: a, URL: list[0].URL}, nil
}

// authorityFlags pairs URLs with keys: --NAME and --NAME-key.
func authorityFlags(urls, keys []string, name string) ([]directory.Authority, error) {
	if len(urls) == 0 || len(urls) != len(keys) {
		return nil, fmt.Errorf("--%s and --%s-key: want one key per URL, got %d URLs and %d keys", name, name, len(urls), len(keys))
	}
	list := make([]directory.Authority, len(urls))
	for i := range urls {
		key, err := onion.DecodeDirectoryKey(keys[i])
		if err != nil {
			return nil, fmt.Errorf("--%s-key %d: %w", name, i+1, err)
		}
		list[i] = directory.Authority{URL: urls[i], Key: key}
	}
	return list, nil
}

// via is the same authorities reached with hc: through the network, for
// requests that must not show this machine's address next to an onion
// address (lookups and publications of hidden services).
func (d verifiedDirectory) via(hc *http.Client) *directory.Authorities { return d.Via(hc) }

func (d verifiedDirectory) services(hc *http.Client) client.ServiceDirectory { return d.via(hc) }

func (d verifiedDirectory) publisher(hc *http.Client) hiddenserver.Publisher { return d.via(hc) }
