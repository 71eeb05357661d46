// Package notifytest gives tests of notifications a real SMTP server: it
// speaks the protocol over TCP (EHLO, STARTTLS, implicit TLS, AUTH PLAIN,
// MAIL, RCPT, DATA), records each envelope with its raw message, and can
// answer with the failures a mail server gives (4xx, 5xx), so that the
// delivery code is tested against the wire, not a mock of net/smtp.
package notifytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mail is one message the server accepted.
type Mail struct {
	From string   // MAIL FROM address
	To   []string // RCPT TO addresses
	Data []byte   // the message as received (dot-unstuffed, CRLF)
	// User is the AUTH PLAIN user ("" without AUTH); TLS says whether the
	// session was encrypted (STARTTLS or implicit).
	User string
	TLS  bool
}

// Options configure the server.
type Options struct {
	// Username and Password, when set, make AUTH PLAIN required before MAIL.
	Username, Password string
	// TLS enables STARTTLS (with StartTLS) or TLS from the first byte (with
	// Implicit).
	TLS      *tls.Config
	StartTLS bool
	Implicit bool
	// Reply, when set, is asked before each RCPT (step "RCPT") and at the
	// end of DATA (step "DATA") with the 1-based number of the session; a
	// code other than 0 is answered instead of success.
	Reply func(session int, step string) (code int, msg string)
}

// SMTP is a running test server.
type SMTP struct {
	Host string
	Port int
	opt  Options
	ln   net.Listener

	mu       sync.Mutex
	mails    []Mail
	sessions int
	cond     *sync.Cond
	wg       sync.WaitGroup
}

// StartSMTP starts a server on 127.0.0.1; it stops when the test ends.
func StartSMTP(t testing.TB, opt Options) *SMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTP{opt: opt, ln: ln, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}
	s.cond = sync.NewCond(&s.mu)
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Mails returns the messages accepted so far.
func (s *SMTP) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Wait blocks until at least n messages were accepted and returns them.
func (s *SMTP) Wait(n int) []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.mails) < n {
		s.cond.Wait()
	}
	return append([]Mail(nil), s.mails...)
}

// Sessions counts the connections served.
func (s *SMTP) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

func (s *SMTP) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.sessions++
		n := s.sessions
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			s.serve(c, n)
		}()
	}
}

// session is the state of one SMTP conversation.
type session struct {
	s      *SMTP
	n      int
	conn   net.Conn
	tp     *textproto.Conn
	tls    bool
	helo   bool
	user   string
	from   string
	to     []string
	authed bool
}

func (s *SMTP) serve(c net.Conn, n int) {
	ss := &session{s: s, n: n, conn: c}
	if s.opt.Implicit {
		tc := tls.Server(c, s.opt.TLS)
		if err := tc.Handshake(); err != nil {
			return
		}
		ss.conn, ss.tls = tc, true
	}
	ss.tp = textproto.NewConn(ss.conn)
	ss.reply(220, "tenon-test ESMTP ready")
	for {
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ss.helo = true
			ss.from, ss.to = "", nil
			lines := []string{"tenon-test greets " + arg, "8BITMIME"}
			if s.opt.StartTLS && !ss.tls {
				lines = append(lines, "STARTTLS")
			}
			if s.opt.Username != "" {
				lines = append(lines, "AUTH PLAIN")
			}
			ss.multi(250, lines)
		case "HELO":
			ss.helo = true
			ss.reply(250, "tenon-test")
		case "STARTTLS":
			if !s.opt.StartTLS || ss.tls {
				ss.reply(502, "not available")
				continue
			}
			ss.reply(220, "go ahead")
			tc := tls.Server(ss.conn, s.opt.TLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			ss.conn, ss.tls, ss.helo = tc, true, false
			ss.tp = textproto.NewConn(tc)
		case "AUTH":
			ss.auth(arg)
		case "MAIL":
			switch {
			case !ss.helo:
				ss.reply(503, "say EHLO first")
			case s.opt.Username != "" && !ss.authed:
				ss.reply(530, "authentication required")
			default:
				ss.from, ss.to = path(arg, "FROM:"), nil
				ss.reply(250, "sender ok")
			}
		case "RCPT":
			if ss.from == "" {
				ss.reply(503, "need MAIL first")
				continue
			}
			if code, msg := ss.ask("RCPT"); code != 0 {
				ss.reply(code, msg)
				continue
			}
			ss.to = append(ss.to, path(arg, "TO:"))
			ss.reply(250, "recipient ok")
		case "DATA":
			if len(ss.to) == 0 {
				ss.reply(503, "need RCPT first")
				continue
			}
			ss.reply(354, "end with <CRLF>.<CRLF>")
			data, err := ss.tp.ReadDotBytes()
			if err != nil {
				return
			}
			if code, msg := ss.ask("DATA"); code != 0 {
				ss.reply(code, msg)
				continue
			}
			s.mu.Lock()
			s.mails = append(s.mails, Mail{From: ss.from, To: ss.to, Data: crlf(data), User: ss.user, TLS: ss.tls})
			s.cond.Broadcast()
			s.mu.Unlock()
			ss.from, ss.to = "", nil
			ss.reply(250, "queued")
		case "RSET":
			ss.from, ss.to = "", nil
			ss.reply(250, "ok")
		case "NOOP":
			ss.reply(250, "ok")
		case "QUIT":
			ss.reply(221, "bye")
			return
		default:
			ss.reply(502, "unknown command")
		}
	}
}

func (ss *session) ask(step string) (int, string) {
	if ss.s.opt.Reply == nil {
		return 0, ""
	}
	return ss.s.opt.Reply(ss.n, step)
}

// auth handles AUTH PLAIN with or without an initial response.
func (ss *session) auth(arg string) {
	mech, resp, _ := strings.Cut(arg, " ")
	if ss.s.opt.Username == "" || !strings.EqualFold(mech, "PLAIN") {
		ss.reply(504, "mechanism not supported")
		return
	}
	if resp == "" {
		ss.reply(334, "")
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		resp = line
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		ss.reply(501, "bad base64")
		return
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 || parts[1] != ss.s.opt.Username || parts[2] != ss.s.opt.Password {
		ss.reply(535, "authentication failed")
		return
	}
	ss.authed, ss.user = true, parts[1]
	ss.reply(235, "authenticated")
}

func (ss *session) reply(code int, msg string) {
	_ = ss.tp.PrintfLine("%d %s", code, msg)
}

func (ss *session) multi(code int, lines []string) {
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		_ = ss.tp.PrintfLine("%d%s%s", code, sep, l)
	}
}

// path reads "FROM:<a@b> SIZE=1" → "a@b".
func path(arg, prefix string) string {
	if len(arg) >= len(prefix) && strings.EqualFold(arg[:len(prefix)], prefix) {
		arg = arg[len(prefix):]
	}
	arg = strings.TrimSpace(arg)
	if i := strings.IndexByte(arg, '>'); strings.HasPrefix(arg, "<") && i > 0 {
		return arg[1:i]
	}
	return strings.Fields(arg)[0]
}

// crlf restores the CRLF line ends ReadDotBytes turned into LF.
func crlf(b []byte) []byte {
	return []byte(strings.ReplaceAll(string(b), "\n", "\r\n"))
}

// Cert makes a self-signed certificate for 127.0.0.1 and localhost, and
// returns it with its PEM (to trust it as a CA).
func Cert(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "tenon-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, string(certPEM)
}

// Addr is host:port of the server.
func (s *SMTP) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }
