/** Two push secrets and every form they can take in text, for the tests that no text leaks them. */
export const URL_ = 'https://n8n.example.com/webhook/abc/webhook';
/** Characters encodeURIComponent changes, so the raw, encoded and decoded forms all differ. */
export const OLD = 'old secret/with+plus&more=0123';
export const NEW = 'new-Secret(2)!~*42/abcdef+xyz';
export const at = (secret: string) => `${URL_}?token=${encodeURIComponent(secret)}`;
/** Every form a secret can take in text. */
export const forms = (secret: string) => [secret, encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+')];
export const leaks = (text: string) => [OLD, NEW].flatMap(forms).filter((form) => text.includes(form));
