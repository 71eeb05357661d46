// Package fonts holds the font Tenon prints with: WenQuanYi Micro Hei
// (文泉驿微米黑), font 0 of Debian's wqy-microhei.ttc extracted as a
// standalone TrueType file, so PDFs show Chinese and Latin text on a
// machine with no fonts installed. Its licence is in LICENSE.md.
package fonts

import _ "embed"

// WQYMicroHei is the TrueType font file (read-only: never modify it).
//
//go:embed wqy-microhei.ttf
var WQYMicroHei []byte
