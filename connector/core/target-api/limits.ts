/**
 * Adobe Target's documented limits, written once: the request builders respect them, the
 * mapping validates against them and the sandbox enforces them.
 */

/** Longest full GET URL the Single Profile Update API accepts (8 KB). */
export const MAX_GET_URL_BYTES = 8192;

/** Largest form-encoded POST body the Single Profile Update API accepts (60 KB). */
export const MAX_POST_BODY_BYTES = 61440;

/** Longest `mbox3rdPartyId`. */
export const MAX_THIRD_PARTY_ID_LENGTH = 256;

/** Longest attribute name (without `profile.`). */
export const MAX_ATTRIBUTE_NAME_LENGTH = 128;

/** Values longer than this may not be kept by Target. */
export const MAX_ATTRIBUTE_VALUE_LENGTH = 256;

/** A bulk batch file must be smaller than this (50 MB). */
export const MAX_BATCH_FILE_BYTES = 50 * 1024 * 1024;

/** Most rows (profiles) in one bulk batch file. */
export const MAX_BATCH_ROWS = 500_000;

/**
 * Most calls of the Bulk Profile Update API (batch submits and status polls together) an account
 * may make per minute; beyond it Target answers HTTP 503. Adobe's "Target limits" page: 50 calls
 * a minute for the admin, reporting and bulk APIs.
 */
export const MAX_BULK_CALLS_PER_MINUTE = 50;

/** The window MAX_BULK_CALLS_PER_MINUTE counts in. */
export const BULK_CALL_WINDOW_MS = 60_000;

/**
 * Most Delivery API requests of one session Target processes at once; more answer HTTP 420
 * ("too many requests with the same session id"). Adobe's "Target limits" page: 100 concurrent
 * content delivery requests per user session. Delivery calls are billed server calls: they do not
 * count against the single API's 1,000,000 updates a day, nor the 50 calls a minute of the
 * admin, reporting and bulk APIs.
 */
export const MAX_DELIVERY_CONCURRENT_PER_SESSION = 100;

/** The status Target answers past MAX_DELIVERY_CONCURRENT_PER_SESSION; retryable. */
export const DELIVERY_SESSION_BUSY_STATUS = 420;

/**
 * Largest JSON body the connector puts in one Delivery API call. Adobe documents no request
 * size for the Delivery API, so the single API's documented 60 KB POST limit is used.
 */
export const MAX_DELIVERY_BODY_BYTES = MAX_POST_BODY_BYTES;
