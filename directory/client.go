package directory

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"onion/onion"
)

// Client limits.
const (
	defaultClientTimeout = 10 * time.Second
	// maxListBody bounds a GET /v1/relays answer. The list document travels
	// as a JSON string, where escaping can at most double it ('"' and '\'
	// become two bytes), plus the signature and punctuation.
	maxListBody = 2*onion.MaxDocumentLen + 1<<10
	// maxErrorBody bounds the error answer read from a refusing directory.
	maxErrorBody = 4 << 10
)

// ErrUnknownService means the directory holds no live descriptor for the
// onion address asked for: it was never published, or its service stopped
// publishing. To a user, the host is unreachable.
var ErrUnknownService = fmt.Errorf("directory: unknown onion address: %w", onion.ErrNoDescriptor)

// serviceMaxAge is the oldest service descriptor Client.Service accepts,
// even from its own directory (which drops them much sooner): a bound on
// what a lying directory can replay.
const serviceMaxAge = 10 * time.Minute

// ErrNoDirectoryKey means Client.Relays was called without a directory key
// to check the list with.
var ErrNoDirectoryKey = errors.New("directory: no directory key to verify the relay list")

// StatusError is a directory's non-2xx answer.
type StatusError struct {
	StatusCode int
	Message    string // the directory's {"error":...} text, or the start of its body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("directory answered %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// Client talks to one directory. Its methods are safe for concurrent use.
type Client struct {
	// URL is the directory's base URL, e.g. http://127.0.0.1:7000.
	URL string
	// Key is the directory's public key, which Relays checks the list
	// against. Nil is fine for a client that only publishes.
	Key ed25519.PublicKey
	// HTTP makes the requests. Nil means a client with a 10 s timeout.
	HTTP *http.Client
	// Now is the clock a list's validity is judged by. Nil means time.Now.
	Now func() time.Time
}

// defaultHTTP is shared so that nil-HTTP clients share connections.
var defaultHTTP = &http.Client{Timeout: defaultClientTimeout}

func (c *Client) http() *http.Client {
	if c.HTTP == nil {
		return defaultHTTP
	}
	return c.HTTP
}

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Client) endpoint(path string) string {
	return strings.TrimSuffix(c.URL, "/") + path
}

// Publish sends d, which must already be signed, to the directory.
func (c *Client) Publish(ctx context.Context, d onion.RelayDescriptor) error {
	if err := c.publish(ctx, d); err != nil {
		return fmt.Errorf("publish descriptor: %w", err)
	}
	return nil
}

func (c *Client) publish(ctx context.Context, d onion.RelayDescriptor) error {
	var res PublishResult
	if err := c.post(ctx, "/v1/relays", d, &res); err != nil {
		return err
	}
	if want := d.Fingerprint(); res.Fingerprint != want {
		return fmt.Errorf("directory stored fingerprint %q, want %q", res.Fingerprint, want)
	}
	return nil
}

// post sends v as JSON and decodes a 2xx answer into res.
func (c *Client) post(ctx context.Context, path string, v, res any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return err
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(res); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	return nil
}

// Relays fetches the relay list and returns it once its signature, validity
// window and every descriptor in it have been checked.
func (c *Client) Relays(ctx context.Context) (onion.RelayList, error) {
	l, err := c.relays(ctx)
	if err != nil {
		return onion.RelayList{}, fmt.Errorf("fetch relay list: %w", err)
	}
	return l, nil
}

func (c *Client) relays(ctx context.Context) (onion.RelayList, error) {
	if len(c.Key) != ed25519.PublicKeySize {
		return onion.RelayList{}, ErrNoDirectoryKey
	}
	signed, err := c.fetchList(ctx)
	if err != nil {
		return onion.RelayList{}, err
	}
	return signed.Open([]ed25519.PublicKey{c.Key}, c.now(), DefaultMaxListValidity)
}

// fetchList fetches the list as served, unverified.
func (c *Client) fetchList(ctx context.Context) (onion.SignedList, error) {
	b, err := c.get(ctx, relaysPath, maxListBody)
	if err != nil {
		return onion.SignedList{}, err
	}
	var signed onion.SignedList
	if err := json.Unmarshal(b, &signed); err != nil {
		return onion.SignedList{}, fmt.Errorf("answer: %w", err)
	}
	return signed, nil
}

// get fetches path and returns a 2xx answer's body, of at most limit bytes.
func (c *Client) get(ctx context.Context, path string, limit int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(path), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("answer longer than %d bytes", limit)
	}
	return b, nil
}

// PublishService sends d, which must already be signed, to the directory.
func (c *Client) PublishService(ctx context.Context, d onion.ServiceDescriptor) error {
	if err := c.publishService(ctx, d); err != nil {
		return fmt.Errorf("publish service descriptor: %w", err)
	}
	return nil
}

func (c *Client) publishService(ctx context.Context, d onion.ServiceDescriptor) error {
	var res ServiceResult
	if err := c.post(ctx, servicesPath, d, &res); err != nil {
		return err
	}
	if res.Address != d.Address() {
		return errors.New("directory stored the descriptor under another address")
	}
	return nil
}

// Service fetches the descriptor of the hidden service at address (with its
// ".onion" suffix) and returns it once CheckFor has passed: signed by the
// key the address names and published within the last 10 minutes, so a
// directory can neither substitute another service's descriptor nor replay
// an old one. A 404 is ErrUnknownService; a malformed address is
// onion.ErrBadAddress, found before any request. Errors do not repeat the
// address.
func (c *Client) Service(ctx context.Context, address string) (onion.ServiceDescriptor, error) {
	d, err := c.service(ctx, address)
	if err != nil {
		return onion.ServiceDescriptor{}, fmt.Errorf("fetch service descriptor: %w", err)
	}
	return d, nil
}

func (c *Client) service(ctx context.Context, address string) (onion.ServiceDescriptor, error) {
	pub, err := onion.ParseAddress(address)
	if err != nil {
		return onion.ServiceDescriptor{}, err
	}
	url := c.endpoint(servicesPath + "/" + onion.EncodeAddress(pub))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return onion.ServiceDescriptor{}, err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return onion.ServiceDescriptor{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return onion.ServiceDescriptor{}, ErrUnknownService
	}
	if err := statusError(resp); err != nil {
		return onion.ServiceDescriptor{}, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxServiceBody+1))
	if err != nil {
		return onion.ServiceDescriptor{}, err
	}
	if len(b) > MaxServiceBody {
		return onion.ServiceDescriptor{}, fmt.Errorf("answer longer than %d bytes", MaxServiceBody)
	}
	var d onion.ServiceDescriptor
	if err := json.Unmarshal(b, &d); err != nil {
		return onion.ServiceDescriptor{}, fmt.Errorf("answer: %w", err)
	}
	if err := d.CheckFor(address, c.now(), serviceMaxAge); err != nil {
		return onion.ServiceDescriptor{}, err
	}
	return d, nil
}

// statusError turns a non-2xx answer into a *StatusError carrying the
// directory's error text.
func statusError(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var eb errorBody
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
		msg = eb.Error
	}
	return &StatusError{StatusCode: resp.StatusCode, Message: printable(msg)}
}

// printable keeps a peer's text from carrying terminal escapes into our
// error messages and logs.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}
