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
	// Attachments are the files of a multipart/mixed message.
	Attachments []Attachment
}

// Attachment is an attached file as a mail client saves it.
type Attachment struct {
	Name, ContentType string
	Data              []byte
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
	return d, d.parts(msg.Body, params["boundary"])
}

// parts reads the parts of a multipart body: the text parts, a nested
// multipart/alternative, attachments.
func (d *Decoded) parts(body io.Reader, boundary string) error {
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		pt, pp, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return err
		}
		if pt == "multipart/alternative" {
			if err := d.parts(part, pp["boundary"]); err != nil {
				return err
			}
			continue
		}
		raw, err := io.ReadAll(part)
		if err != nil {
			return err
		}
		var body []byte
		switch strings.ToLower(part.Header.Get("Content-Transfer-Encoding")) {
		case "base64":
			body, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
			if err != nil {
				return fmt.Errorf("base64 part: %w", err)
			}
		default:
			body = raw
		}
		if _, dp, err := mime.ParseMediaType(part.Header.Get("Content-Disposition")); err == nil && dp["filename"] != "" {
			d.Attachments = append(d.Attachments, Attachment{Name: dp["filename"], ContentType: pt, Data: body})
			continue
		}
		if !strings.EqualFold(pp["charset"], "utf-8") {
			return fmt.Errorf("part %s has charset %q", pt, pp["charset"])
		}
		switch pt {
		case "text/plain":
			d.Text = string(body)
		case "text/html":
			d.HTML = string(body)
		}
	}
}
