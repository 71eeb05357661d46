package pdftest

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

var (
	streamRe = regexp.MustCompile(`(?s)>>\s*stream\r?\n`)
	rangeRe  = regexp.MustCompile(`<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>`)
	charRe   = regexp.MustCompile(`<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>`)
	blockRe  = regexp.MustCompile(`(?s)BT\s(.*?)\sET`)
	moveRe   = regexp.MustCompile(`(-?[0-9.]+)\s+(-?[0-9.]+)\s+T[dD]`)
	hexRe    = regexp.MustCompile(`<([0-9A-Fa-f]*)>`)
)

// run is a piece of text drawn at a point of a page.
type run struct {
	page int
	x, y float64
	text string
}

// Extract reads the text of a PDF written by Tenon's renderer: FlateDecode
// streams, a CID font with Identity-H codes whose ToUnicode map gives the
// characters, text shown by hex strings with Tj or TJ after a Td/TD move.
// Runs are put in reading order (pages in order, lines top to bottom,
// left to right within a line); a run drawn twice at nearly the same
// place (the renderer's bold) is read once.
func Extract(pdf []byte) (string, error) {
	streams, err := inflateStreams(pdf)
	if err != nil {
		return "", err
	}
	cmap := map[uint16][]rune{}
	for _, s := range streams {
		if bytes.Contains(s, []byte("begincmap")) {
			readCMap(s, cmap)
		}
	}
	if len(cmap) == 0 {
		return "", errors.New("no ToUnicode map")
	}
	var runs []run
	page := 0
	for _, s := range streams {
		if bytes.Contains(s, []byte("begincmap")) || !bytes.Contains(s, []byte("BT")) {
			continue
		}
		page++
		for _, b := range blockRe.FindAllSubmatch(s, -1) {
			var r run
			r.page = page
			if m := moveRe.FindSubmatch(b[1]); m != nil {
				r.x, _ = strconv.ParseFloat(string(m[1]), 64)
				r.y, _ = strconv.ParseFloat(string(m[2]), 64)
			}
			var sb strings.Builder
			for _, h := range hexRe.FindAllSubmatch(b[1], -1) {
				raw, err := hex.DecodeString(string(h[1]))
				if err != nil {
					return "", err
				}
				for i := 0; i+1 < len(raw); i += 2 {
					sb.WriteString(string(cmap[uint16(raw[i])<<8|uint16(raw[i+1])]))
				}
			}
			if r.text = sb.String(); r.text != "" {
				runs = append(runs, r)
			}
		}
	}
	return layout(runs), nil
}

// inflateStreams returns every stream of the file, inflated when it is
// compressed.
func inflateStreams(pdf []byte) ([][]byte, error) {
	var out [][]byte
	for _, loc := range streamRe.FindAllIndex(pdf, -1) {
		start := loc[1]
		end := bytes.Index(pdf[start:], []byte("endstream"))
		if end < 0 {
			return nil, errors.New("a stream without its end")
		}
		raw := pdf[start : start+end]
		if zr, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
			if b, err := io.ReadAll(zr); err == nil {
				raw = b
			}
		}
		out = append(out, raw)
	}
	return out, nil
}

// readCMap adds a ToUnicode map's bfchar and bfrange entries.
func readCMap(s []byte, cmap map[uint16][]rune) {
	for _, sec := range [][2]string{{"beginbfrange", "endbfrange"}, {"beginbfchar", "endbfchar"}} {
		rest := s
		for {
			i := bytes.Index(rest, []byte(sec[0]))
			if i < 0 {
				break
			}
			j := bytes.Index(rest[i:], []byte(sec[1]))
			if j < 0 {
				break
			}
			body := rest[i+len(sec[0]) : i+j]
			if sec[0] == "beginbfrange" {
				for _, m := range rangeRe.FindAllSubmatch(body, -1) {
					lo, hi, dst := code(m[1]), code(m[2]), utf16Runes(m[3])
					for c := lo; c <= hi && len(dst) > 0; c++ {
						rs := slices.Clone(dst)
						rs[len(rs)-1] += rune(c - lo)
						cmap[c] = rs
						if c == 0xFFFF {
							break
						}
					}
				}
			} else {
				for _, m := range charRe.FindAllSubmatch(body, -1) {
					cmap[code(m[1])] = utf16Runes(m[2])
				}
			}
			rest = rest[i+j:]
		}
	}
}

func code(h []byte) uint16 {
	n, _ := strconv.ParseUint(string(h), 16, 16)
	return uint16(n)
}

func utf16Runes(h []byte) []rune {
	raw, err := hex.DecodeString(string(h))
	if err != nil || len(raw)%2 != 0 {
		return nil
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
	}
	return utf16.Decode(u)
}

// layout orders runs for reading: by page, then lines (runs whose
// baselines are within 2 points) from the top, then left to right; a run
// repeated within a point of itself is dropped.
func layout(runs []run) string {
	slices.SortStableFunc(runs, func(a, b run) int {
		if a.page != b.page {
			return a.page - b.page
		}
		if d := b.y - a.y; d > 2 || d < -2 {
			if d > 0 {
				return 1
			}
			return -1
		}
		switch {
		case a.x < b.x:
			return -1
		case a.x > b.x:
			return 1
		}
		return 0
	})
	var sb strings.Builder
	for i, r := range runs {
		if i > 0 {
			p := runs[i-1]
			if p.page == r.page && p.text == r.text && abs(p.x-r.x) < 1 && abs(p.y-r.y) < 1 {
				continue // the renderer's bold: the same text drawn twice
			}
			if p.page != r.page || abs(p.y-r.y) > 2 {
				sb.WriteString("\n")
			} else {
				sb.WriteString(" ")
			}
		}
		sb.WriteString(r.text)
	}
	return sb.String()
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
