// Numbers the rest of the daemon needs from the WhatsApp stage without loading Baileys
// (it is loaded after the API listens, so start-up stays fast).

/** Deliveries of a message wait at most this long for its media. */
export const MEDIA_HOLD_MS = 90_000;
