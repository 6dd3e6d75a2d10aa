// Package curl is a minimal curl for the container's healthcheck
// (`curl -fsS http://localhost:8000/health`) and the gateway's gate (https
// with --cacert, --insecure and --connect-to): the real vLLM image has curl,
// the stand-in image has only this, reached through /usr/bin/curl.
package curl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Exit codes curl uses.
const (
	ExitOK          = 0
	ExitUsage       = 2
	ExitURL         = 3
	ExitResolve     = 6
	ExitConnect     = 7
	ExitHTTPError   = 22
	ExitWrite       = 23
	ExitTimeout     = 28
	ExitUnsupported = 1
	ExitRecv        = 56
	ExitSSLConnect  = 35
	ExitSSLCACert   = 77
	ExitPeerCert    = 60
)

type opts struct {
	fail, silent, showErr, include, head bool
	out                                  string
	maxTime                              time.Duration
	method                               string
	headers                              []string
	data                                 *string
	url                                  string
	insecure                             bool
	cacert                               string
	// connectTo: "HOST1:PORT1:HOST2:PORT2", a request for HOST1:PORT1 goes to HOST2:PORT2 (TLS still checks HOST1).
	connectTo []string
}

// Main runs curl with args (without argv[0]); it returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	o, code, msg := parseArgs(args)
	if code != 0 {
		fmt.Fprintf(stderr, "curl: %s\n", msg)
		if code == ExitUsage {
			fmt.Fprintln(stderr, "curl: try 'curl --help' or 'curl --manual' for more information")
		}
		return code
	}
	fail := func(code int, format string, a ...any) int {
		if !o.silent || o.showErr {
			fmt.Fprintf(stderr, "curl: (%d) %s\n", code, fmt.Sprintf(format, a...))
		}
		return code
	}
	u, err := url.Parse(o.url)
	if err != nil || u.Host == "" {
		return fail(ExitURL, "URL rejected: Malformed input to a URL function")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fail(ExitUnsupported, "Protocol \"%s\" not supported", u.Scheme)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	tlsConf := &tls.Config{ServerName: host, InsecureSkipVerify: o.insecure}
	if o.cacert != "" {
		pem, err := os.ReadFile(o.cacert)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			return fail(ExitSSLCACert, "error setting certificate file: %s", o.cacert)
		}
		tlsConf.RootCAs = pool
	}
	dialHost, dialPort := host, port
	for _, c := range o.connectTo {
		// Only the exact HOST1:PORT1 form is read; curl's empty fields are not.
		if f := strings.Split(c, ":"); len(f) == 4 && f[0] == host && f[1] == port {
			dialHost, dialPort = f[2], f[3]
		}
	}
	ctx := context.Background()
	if o.maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.maxTime)
		defer cancel()
	}
	start := time.Now()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		addrs := []string{dialHost}
		if strings.EqualFold(dialHost, "localhost") {
			addrs = []string{"127.0.0.1", "::1"} // curl resolves localhost itself
		}
		var first error
		for _, a := range addrs {
			c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a, dialPort))
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
		}
		return nil, first
	}
	client := &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true, Proxy: nil, TLSClientConfig: tlsConf}}
	method := o.method
	var body io.Reader
	if o.data != nil {
		body = strings.NewReader(*o.data)
		if method == "" {
			method = http.MethodPost
		}
	}
	if o.head {
		method = http.MethodHead
	}
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, o.url, body)
	if err != nil {
		return fail(ExitURL, "URL rejected: %v", err)
	}
	req.Header.Set("User-Agent", "curl/7.81.0")
	req.Header.Set("Accept", "*/*")
	if o.data != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range o.headers {
		if k, v, ok := strings.Cut(h, ":"); ok {
			req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		ms := time.Since(start).Milliseconds()
		var dnsErr *net.DNSError
		var unknownAuthority x509.UnknownAuthorityError
		var badName x509.HostnameError
		switch {
		case errors.As(err, &unknownAuthority):
			return fail(ExitPeerCert, "SSL certificate problem: unable to get local issuer certificate")
		case errors.As(err, &badName):
			return fail(ExitPeerCert, "SSL: no alternative certificate subject name matches target host name '%s'", host)
		case u.Scheme == "https" && strings.Contains(err.Error(), "tls:"):
			return fail(ExitSSLConnect, "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to %s:%s", host, port)
		case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
			return fail(ExitTimeout, "Operation timed out after %d milliseconds with 0 bytes received", ms)
		case errors.As(err, &dnsErr):
			return fail(ExitResolve, "Could not resolve host: %s", host)
		case errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
			errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL):
			return fail(ExitConnect, "Failed to connect to %s port %s after %d ms: Couldn't connect to server", host, port, ms)
		default:
			return fail(ExitRecv, "Failure when receiving data from the peer")
		}
	}
	defer resp.Body.Close()
	if o.fail && resp.StatusCode >= 400 {
		return fail(ExitHTTPError, "The requested URL returned error: %d", resp.StatusCode)
	}
	var w io.Writer = stdout
	if o.out != "" && o.out != "-" {
		f, err := os.Create(o.out)
		if err != nil {
			return fail(ExitWrite, "Failure writing output to destination")
		}
		defer f.Close()
		w = f
	}
	if o.include || o.head {
		fmt.Fprintf(w, "HTTP/%d.%d %s\r\n", resp.ProtoMajor, resp.ProtoMinor, resp.Status)
		resp.Header.Write(w)
		io.WriteString(w, "\r\n")
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fail(ExitTimeout, "Operation timed out after %d milliseconds", time.Since(start).Milliseconds())
		}
		return fail(ExitRecv, "Failure when receiving data from the peer")
	}
	return ExitOK
}

func parseArgs(args []string) (*opts, int, string) {
	o := &opts{}
	needVal := func(i *int, name string) (string, bool) {
		if *i+1 >= len(args) {
			return "", false
		}
		*i++
		return args[*i], true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a, "=")
			get := func() (string, bool) {
				if hasVal {
					return val, true
				}
				return needVal(&i, name)
			}
			switch name {
			case "--fail":
				o.fail = true
			case "--silent":
				o.silent = true
			case "--show-error":
				o.showErr = true
			case "--include":
				o.include = true
			case "--head":
				o.head = true
			case "--insecure":
				o.insecure = true
			case "--output", "--cacert", "--connect-to", "--max-time", "--request", "--header", "--data", "--data-raw", "--connect-timeout", "--retry", "--user-agent":
				v, ok := get()
				if !ok {
					return nil, ExitUsage, fmt.Sprintf("option %s: requires parameter", name)
				}
				switch name {
				case "--output":
					o.out = v
				case "--max-time":
					f, err := strconv.ParseFloat(v, 64)
					if err != nil {
						return nil, ExitUsage, fmt.Sprintf("option %s: expected a proper numerical parameter", name)
					}
					o.maxTime = time.Duration(f * float64(time.Second))
				case "--request":
					o.method = v
				case "--header":
					o.headers = append(o.headers, v)
				case "--data", "--data-raw":
					o.data = &v
				case "--cacert":
					o.cacert = v
				case "--connect-to":
					o.connectTo = append(o.connectTo, v)
				}
			default:
				return nil, ExitUsage, fmt.Sprintf("option %s: is unknown", name)
			}
			continue
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags := a[1:]
			for j := 0; j < len(flags); j++ {
				c := flags[j]
				switch c {
				case 'f':
					o.fail = true
				case 's':
					o.silent = true
				case 'S':
					o.showErr = true
				case 'i':
					o.include = true
				case 'I':
					o.head = true
				case 'k':
					o.insecure = true
				case 'L', 'v', 'g':
					// follow redirects / verbose / globoff: accepted, no effect here
				case 'o', 'm', 'X', 'H', 'd':
					v := flags[j+1:]
					if v == "" {
						var ok bool
						if v, ok = needVal(&i, "-"+string(c)); !ok {
							return nil, ExitUsage, fmt.Sprintf("option -%c: requires parameter", c)
						}
					}
					switch c {
					case 'o':
						o.out = v
					case 'm':
						f, err := strconv.ParseFloat(v, 64)
						if err != nil {
							return nil, ExitUsage, "option -m: expected a proper numerical parameter"
						}
						o.maxTime = time.Duration(f * float64(time.Second))
					case 'X':
						o.method = v
					case 'H':
						o.headers = append(o.headers, v)
					case 'd':
						o.data = &v
					}
					j = len(flags)
				default:
					return nil, ExitUsage, fmt.Sprintf("option -%c: is unknown", c)
				}
			}
			continue
		}
		if o.url != "" {
			return nil, ExitUsage, "the stand-in curl takes one URL"
		}
		o.url = a
	}
	if o.url == "" {
		return nil, ExitUsage, "no URL specified!"
	}
	if !strings.Contains(o.url, "://") {
		o.url = "http://" + o.url
	}
	return o, 0, ""
}
