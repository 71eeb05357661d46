// Package httpapi is Tenon's HTTP surface: the router on the standard
// library's ServeMux, middleware (request logs, security headers, body
// limits, authentication, CSRF), strict JSON decoding, problem+json errors
// in zh-CN and en, and the generated OpenAPI document. Handlers are short:
// decode, call a service, encode.
package httpapi
