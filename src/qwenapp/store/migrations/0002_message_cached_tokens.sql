-- How many of a message's prompt tokens the engine served from its prompt cache (NULL:
-- unknown, e.g. saved before this column or by a backend that does not say). With
-- prompt_tokens, it shows whether a long conversation's turns reuse the cache.
ALTER TABLE messages ADD COLUMN cached_tokens INTEGER;
