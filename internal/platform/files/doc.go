// Package files owns uploaded files (P12): their bytes in a Storage (local
// disk now, S3-compatible object storage later), their metadata in the
// files table, and which record fields hold them in file_refs.
//
// Uploads are checked before anything is written: empty files, files over
// the size limit and executable or HTML-like content (by name and by the
// bytes themselves) are refused. Ids are random and storage keys derive
// from them, never from user input. Files that no record refers to are
// purged after a day by a job calling PurgeOrphans.
//
// The package does not decide who may download a file: the HTTP layer asks
// Refs which records hold it and checks the caller may read one of them. It
// offers the helpers that layer needs to serve a file safely: IsImage for
// the inline decision and ContentDisposition for the header.
package files
