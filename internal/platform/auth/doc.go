// Package auth owns who is calling: password hashes, browser sessions with
// their CSRF tokens, personal API tokens with scopes, login throttling and the
// auth_events trail. It owns the system tables user_passwords, sessions,
// api_tokens, login_attempts and auth_events, and nothing else.
//
// Users themselves are records (the users entity); auth reaches them only
// through the small Users interface, which the records layer implements.
// What a user may do once authenticated is the access package's business;
// auth only says which user (and, for a token, which scopes) is calling.
//
// Secrets are never stored. A session cookie and an API token are 32 random
// bytes; the database keeps the hex SHA-256 of the string the client
// presents, so a copy of the database lets no one log in. Passwords are
// argon2id hashes in PHC form ($argon2id$v=19$m=..,t=..,p=..$salt$hash);
// verification reads the parameters from the stored string, and a successful
// login re-hashes a password whose parameters differ from the configured
// ones, so the cost can be raised later without a migration.
//
// Throttles live in the database (login_attempts), not in memory, so that
// several Tenon instances share them. All times come from Config.Now.
package auth
