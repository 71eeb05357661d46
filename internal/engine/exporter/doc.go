// Package exporter is Tenon's list export (P9): any list, as the caller
// sees it, downloaded as a CSV or XLSX file.
//
// # The route
//
//	GET /api/v1/records/{entity}/export?format=csv|xlsx&filter=&sort=&q=&fields=
//
// answers 200 with the file, Content-Disposition: attachment and the name
// <entity label>-YYYYMMDD-HHMMSS.csv (or .xlsx): the label in the caller's
// language (Accept-Language), the time in Asia/Shanghai, the exact name in
// filename* (RFC 8187) and an ASCII fallback in filename. An API token needs
// the records:read scope.
//
// # What is in the file
//
// Exactly the rows and fields the caller may read, in the order the list
// shows them. The caller needs the read and the export right on the entity
// (403 otherwise: the role's matrix has an "export" action). filter, sort
// and q mean what they mean for GET /api/v1/records/{entity} — the rows
// come from the records service (records.Service.Each) with the caller's
// data scope ANDed in, and a filter or sort on a field hidden from the
// caller is refused (400) as if the field did not exist. The recycle bin is
// not exported.
//
// The columns are fields, in the order given; names not known, hidden from
// the caller or secret are refused alike (400 unknown_field). Without
// fields: id, every readable field of the entity in definition order except
// sub-tables and secret fields, then owner, created_by, created_at and
// updated_at. The system columns id, version, owner, created_by, created_at
// and updated_at may be named in fields too. The header row is the
// columns' labels in the caller's language.
//
// # Cells
//
// Values are written for people, by the field types' export form
// (meta.Exporter), not the API's JSON:
//
//   - select and multi_select: the options' labels in the caller's
//     language; several values of a field (multi_select, tags, multi_link,
//     …) are joined with "; ";
//   - link, multi_link, user, department, owner, created_by: the linked
//     records' titles (title field), looked up once per batch for every
//     row of it and only among the records the caller may read; a linked
//     record the caller may not see, or whose title field is hidden from
//     them, shows its id, as the list does;
//   - file, image, signature: the file's name;
//   - integer, rating, decimal, money, percent, rollup, and formulas with a
//     numeric result: numbers (in CSV their exact decimal text such as
//     -12.50; in XLSX numeric cells formatted with the field's decimal
//     places — integers exact, decimals as the nearest double, which keeps
//     15 significant digits);
//   - boolean: 是/否 or Yes/No;
//   - date: YYYY-MM-DD; in XLSX a real date cell (format yyyy-mm-dd), so
//     Excel sorts and filters it as a date;
//   - datetime, created_at, updated_at: Asia/Shanghai wall clock time
//     "YYYY-MM-DD HH:MM:SS"; in XLSX a real date-time cell;
//   - time: HH:MM; address: its parts joined; geo: "lat, lng"; json: its
//     JSON text; rich_text: its plain text;
//   - a sub-table is not a default column; named in fields it is summarised
//     as its number of rows ("3 行" / "3 rows").
//
// Every text cell — labels in the header row included — that begins with
// =, +, -, @, a tab or a carriage return gets a leading apostrophe, so no
// spreadsheet program reads it as a formula (formula injection); numbers
// are numeric cells, so a decimal field's -12.5 stays the number -12.5.
//
// CSV is RFC 4180: UTF-8 with a byte-order mark (Excel then reads Chinese
// correctly), CRLF line ends, fields quoted when they contain a comma, a
// quote, a CR or LF, or begin with a space or a tab; values are written
// exactly, line breaks inside them included.
//
// # Streaming
//
// Records are read through records.Service.Each, never by offset: the ids
// of the matching records first, in the list's order (one query, sorted
// once; 8 bytes a record, 800 KB for 100,000 rows), then the records by
// id, Batch at a time, with their links' titles and files' names looked up
// for the whole batch. Memory is one batch plus the ids, whatever the size
// of the list, and no database connection is held while the client reads.
// The rows and their order are fixed when the export starts; each row's
// values are read with its batch (a record changed during a long export
// appears as it is then; one deleted or moved out of the caller's scope
// meanwhile is left out).
//
// CSV goes out as it is made: the header row with the first batch, each
// batch flushed to the client when written. Everything that can be wrong
// with the request (entity, rights, format, fields, filter, sort, q) is
// found before the first byte and answered with a problem (problem+json,
// 4xx). A failure after the first byte (the database goes away) cannot be
// reported in the file: the error is logged and the response is aborted —
// the connection is closed without the final chunk — so the client sees a
// failed transfer (curl: "transfer closed with outstanding read data", a
// browser: "download failed"), never a file that looks complete.
//
// XLSX is a zip archive whose sheet must be complete before it is packed:
// rows go through excelize's stream writer into a buffer that spills to a
// temporary file beyond 16 MB (Config.TempDir), and the workbook is then
// compressed straight into the response. The first byte therefore leaves
// when every row has been read, so an error while reading rows is an
// ordinary 500 problem; one while packing aborts the response as above.
// The temporary file is removed when the export ends.
package exporter
