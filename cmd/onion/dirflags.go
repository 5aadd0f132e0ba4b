package main

import (
	"net/http"

	"github.com/urfave/cli/v2"

	"onion/client"
	"onion/directory"
	"onion/hiddenserver"
	"onion/onion"
)

// directoryFlagDefs are --directory and --directory-key, for the commands
// that use the network. required is false where a subcommand must not
// inherit them (urfave/cli would demand them of it too); the command
// then checks them itself.
func directoryFlagDefs(required bool) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "directory", Usage: "directory URL, e.g. http://127.0.0.1:7000", Required: required, EnvVars: []string{"ONION_DIRECTORY"}},
		&cli.StringFlag{Name: "directory-key", Usage: "the directory's public `KEY`, as printed by onion directory (also in its directory.pub)", Required: required, EnvVars: []string{"ONION_DIRECTORY_KEY"}},
	}
}

// verifiedDirectory is the directory a client-side command uses: its
// relay list checked against --directory-key.
type verifiedDirectory struct{ *directory.Client }

// directoryFlags reads --directory and --directory-key.
func directoryFlags(c *cli.Context) (verifiedDirectory, error) {
	key, err := onion.DecodeDirectoryKey(c.String("directory-key"))
	if err != nil {
		return verifiedDirectory{}, err
	}
	return verifiedDirectory{&directory.Client{URL: c.String("directory"), Key: key}}, nil
}

// via is the same directory reached with hc: through the network, for
// requests that must not show this machine's address next to an onion
// address (lookups and publications of hidden services).
func (d verifiedDirectory) via(hc *http.Client) *directory.Client {
	return &directory.Client{URL: d.URL, Key: d.Key, HTTP: hc}
}

func (d verifiedDirectory) services(hc *http.Client) client.ServiceDirectory { return d.via(hc) }

func (d verifiedDirectory) publisher(hc *http.Client) hiddenserver.Publisher { return d.via(hc) }
