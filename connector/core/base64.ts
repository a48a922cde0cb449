/** Base64 of bytes without Node's Buffer, so that the core needs no Node runtime to format bytes. */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard padded base64 (RFC 4648 §4): the same text as Buffer's toString('base64'). */
export function base64(bytes: Uint8Array): string {
  const digit = (sextet: number) => ALPHABET.charAt(sextet & 63);
  let text = '';
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    text += digit(n >>> 18) + digit(n >>> 12) + digit(n >>> 6) + digit(n);
  }
  if (bytes.length - whole === 1) {
    const n = (bytes[whole] as number) << 16;
    text += `${digit(n >>> 18)}${digit(n >>> 12)}==`;
  } else if (bytes.length - whole === 2) {
    const n = ((bytes[whole] as number) << 16) | ((bytes[whole + 1] as number) << 8);
    text += `${digit(n >>> 18)}${digit(n >>> 12)}${digit(n >>> 6)}=`;
  }
  return text;
}
