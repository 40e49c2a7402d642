// Package smtptest is a small SMTP server for tests: it accepts mail on
// 127.0.0.1, optionally offers STARTTLS and AUTH PLAIN, can refuse
// recipients, and keeps what it received.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Message is one received mail.
type Message struct {
	From     string
	To       []string
	Data     string
	TLS      bool
	AuthUser string
}

// Server is a running SMTP sink.
type Server struct {
	ln   net.Listener
	tls  *tls.Config
	cert *x509.Certificate

	mu         sync.Mutex
	refuseRcpt int
	user, pass string
	msgs       []Message
	wg         sync.WaitGroup
	err        error
}

// Option configures a Server.
type Option func(*Server)

// WithSTARTTLS makes the server offer STARTTLS with a fresh self-signed
// certificate for 127.0.0.1 (see ClientTLS).
func WithSTARTTLS() Option {
	return func(s *Server) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			s.err = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true, IsCA: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			s.err = err
			return
		}
		s.cert, _ = x509.ParseCertificate(der)
		s.tls = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	}
}

// WithAuth requires AUTH PLAIN with this user and password.
func WithAuth(user, pass string) Option { return func(s *Server) { s.user, s.pass = user, pass } }

// Start listens on 127.0.0.1 and serves until Close.
func Start(opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln}
	for _, o := range opts {
		o(s)
	}
	if s.err != nil {
		ln.Close()
		return nil, s.err
	}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Host and Port say where the server listens.
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// ClientTLS returns a client TLS configuration trusting the server's
// certificate.
func (s *Server) ClientTLS() *tls.Config {
	pool := x509.NewCertPool()
	if s.cert != nil {
		pool.AddCert(s.cert)
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// RefuseRecipients makes RCPT TO answer code (0: accept).
func (s *Server) RefuseRecipients(code int) {
	s.mu.Lock()
	s.refuseRcpt = code
	s.mu.Unlock()
}

// Messages returns what was received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Close stops the server.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			s.session(c)
		}()
	}
}

func (s *Server) session(c net.Conn) {
	tp := textproto.NewConn(c)
	var m Message
	authed := s.user == ""
	reply := func(code int, msg string) { _ = tp.PrintfLine("%d %s", code, msg) }
	reply(220, "smtptest ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "HELO":
			reply(250, "hello")
		case "EHLO":
			ext := []string{"smtptest", "8BITMIME"}
			if s.tls != nil && !m.TLS {
				ext = append(ext, "STARTTLS")
			}
			if s.user != "" {
				ext = append(ext, "AUTH PLAIN")
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				_ = tp.PrintfLine("250%s%s", sep, e)
			}
		case "STARTTLS":
			if s.tls == nil {
				reply(502, "no TLS")
				continue
			}
			reply(220, "go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c = tc
			tp = textproto.NewConn(tc)
			m = Message{TLS: true}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				reply(504, "unsupported")
				continue
			}
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				reply(535, "authentication failed")
				continue
			}
			authed, m.AuthUser = true, parts[1]
			reply(235, "ok")
		case "MAIL":
			if !authed {
				reply(530, "authentication required")
				continue
			}
			m.From = addr(arg)
			reply(250, "ok")
		case "RCPT":
			s.mu.Lock()
			code := s.refuseRcpt
			s.mu.Unlock()
			if code != 0 {
				reply(code, "recipient refused")
				continue
			}
			m.To = append(m.To, addr(arg))
			reply(250, "ok")
		case "DATA":
			reply(354, "end with .")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.Data = string(data)
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			m = Message{TLS: m.TLS, AuthUser: m.AuthUser}
			reply(250, "queued")
		case "RSET":
			m = Message{TLS: m.TLS, AuthUser: m.AuthUser}
			reply(250, "ok")
		case "NOOP":
			reply(250, "ok")
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(500, fmt.Sprintf("unknown command %q", verb))
		}
	}
}

func addr(arg string) string {
	if i := strings.IndexByte(arg, '<'); i >= 0 {
		if j := strings.IndexByte(arg[i:], '>'); j >= 0 {
			return arg[i+1 : i+j]
		}
	}
	return arg
}
