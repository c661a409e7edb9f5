-- A GitHub sign-in's state is bound to the browser that started it: the SHA-256 of a random value
-- set as a cookie on that browser. The callback is honoured only with the same cookie (login CSRF: a
-- callback link someone else made cannot sign a victim into the maker's account).
ALTER TABLE oauth_states ADD COLUMN browser_hash bytea CHECK (octet_length(browser_hash) = 32);
