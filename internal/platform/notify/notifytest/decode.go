package notifytest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
)

// Decoded is a received message taken apart: decoded headers and the text
// of each part.
type Decoded struct {
	Header  mail.Header
	From    *mail.Address
	To      *mail.Address
	Subject string
	Text    string // the text/plain part
	HTML    string // the text/html part
}

// Decode parses a received message the way a mail client would: RFC 2047
// headers, a multipart/alternative body, base64 or quoted-printable parts.
// It fails on anything malformed, so a test using it checks the format.
func Decode(m Mail) (Decoded, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return Decoded{}, err
	}
	d := Decoded{Header: msg.Header}
	dec := new(mime.WordDecoder)
	if d.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return d, fmt.Errorf("subject: %w", err)
	}
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil {
		return d, fmt.Errorf("from: %w", err)
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		return d, fmt.Errorf("to: %w", err)
	}
	d.From, d.To = from, to
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return d, fmt.Errorf("content-type: %w", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return d, fmt.Errorf("not multipart: %s", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return d, err
		}
		raw, err := io.ReadAll(part)
		if err != nil {
			return d, err
		}
		var body []byte
		switch strings.ToLower(part.Header.Get("Content-Transfer-Encoding")) {
		case "base64":
			body, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
			if err != nil {
				return d, fmt.Errorf("base64 part: %w", err)
			}
		default:
			body = raw
		}
		pt, pp, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return d, err
		}
		if !strings.EqualFold(pp["charset"], "utf-8") {
			return d, fmt.Errorf("part %s has charset %q", pt, pp["charset"])
		}
		switch pt {
		case "text/plain":
			d.Text = string(body)
		case "text/html":
			d.HTML = string(body)
		}
	}
	return d, nil
}
