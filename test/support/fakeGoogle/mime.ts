/**
 * Builds an RFC 822 message and the matching Gmail `payload` tree from one description, so that
 * format=raw and format=full of the same message always agree (as they do on Gmail).
 */
export interface AttachmentInput {
	filename: string;
	mimeType?: string;
	content: string | Buffer;
}

export interface MessageContent {
	from: string;
	to: string;
	cc?: string;
	subject: string;
	text: string;
	html?: string;
	date: Date;
	messageIdHeader: string;
	extraHeaders: Array<[string, string]>;
	attachments: AttachmentInput[];
}

export interface GmailHeader {
	name: string;
	value: string;
}

export interface GmailPartBody {
	size: number;
	data?: string;
	attachmentId?: string;
}

export interface GmailPart {
	partId: string;
	mimeType: string;
	filename: string;
	headers: GmailHeader[];
	body: GmailPartBody;
	parts?: GmailPart[];
}

export interface BuiltMessage {
	raw: Buffer;
	payload: GmailPart;
	snippet: string;
	/** attachmentId → decoded bytes, served by messages.attachments.get. */
	attachments: Map<string, Buffer>;
}

interface MimeNode {
	mimeType: string;
	/** Extra Content-Type parameters, e.g. `charset="UTF-8"`. */
	params: string[];
	headers: Array<[string, string]>;
	filename: string;
	content?: Buffer;
	children?: MimeNode[];
	boundary?: string;
	attachmentId?: string;
}

export function base64url(data: Buffer | string): string {
	return Buffer.from(data).toString('base64url');
}

/** RFC 2822 date as mail servers write it ("Tue, 28 Nov 2023 00:24:00 +0000"). */
export function rfc2822Date(date: Date): string {
	return date.toUTCString().replace(/GMT$/, '+0000');
}

const isAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);
const encodedWord = (s: string): string => `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;

/** RFC 2047: non-ASCII header text becomes an encoded word; in addresses only the display name is encoded. */
function encodeHeader(name: string, value: string): string {
	if (isAscii(value)) return value;
	if (/^(from|to|cc|bcc|reply-to)$/i.test(name)) {
		return value
			.split(',')
			.map((addr) => {
				const m = /^\s*"?(.*?)"?\s*<([^>]+)>\s*$/.exec(addr);
				return m ? `${encodedWord(m[1])} <${m[2]}>` : encodedWord(addr.trim());
			})
			.join(', ');
	}
	return encodedWord(value);
}

function needsBase64(buf: Buffer): boolean {
	for (const byte of buf) if (byte > 0x7e || (byte < 0x20 && byte !== 0x0d && byte !== 0x0a && byte !== 0x09)) return true;
	return buf.toString('latin1').split('\r\n').some((line) => line.length > 900);
}

/** Gmail bodies come back with CRLF line ends whatever the sender used. */
const crlf = (s: string): string => s.replace(/\r?\n/g, '\r\n');

function textNode(mimeType: string, text: string): MimeNode {
	return { mimeType, params: ['charset="UTF-8"'], headers: [], filename: '', content: Buffer.from(crlf(text), 'utf8') };
}

function transferEncoding(node: MimeNode): string | undefined {
	if (node.children || !node.content) return undefined;
	if (node.attachmentId) return 'base64';
	return needsBase64(node.content) ? 'base64' : '7bit';
}

function contentTypeValue(node: MimeNode): string {
	const params = [...node.params];
	if (node.boundary) params.push(`boundary="${node.boundary}"`);
	return [node.mimeType, ...params].join('; ');
}

/** Headers of a part in raw (encoded) form, including its own Content-* headers. */
function partHeaders(node: MimeNode): Array<[string, string]> {
	const out: Array<[string, string]> = [...node.headers, ['Content-Type', contentTypeValue(node)]];
	if (node.attachmentId) {
		out.push(['Content-Disposition', `attachment; filename="${node.filename}"`]);
		out.push(['X-Attachment-Id', node.attachmentId.slice(0, 12)]);
	}
	const cte = transferEncoding(node);
	if (cte) out.push(['Content-Transfer-Encoding', cte]);
	return out;
}

function serialize(node: MimeNode): string {
	const head = partHeaders(node)
		.map(([n, v]) => `${n}: ${encodeHeader(n, v)}`)
		.join('\r\n');
	let body: string;
	if (node.children && node.boundary) {
		body = node.children.map((c) => `--${node.boundary}\r\n${serialize(c)}\r\n`).join('') + `--${node.boundary}--`;
	} else if (transferEncoding(node) === 'base64') {
		body = (node.content ?? Buffer.alloc(0)).toString('base64').replace(/.{76}(?=.)/g, '$&\r\n');
	} else {
		body = (node.content ?? Buffer.alloc(0)).toString('latin1');
	}
	return `${head}\r\n\r\n${body}`;
}

function toPayload(node: MimeNode, partId: string): GmailPart {
	const headers = partHeaders(node).map(([name, value]) => ({ name, value }));
	const part: GmailPart = { partId, mimeType: node.mimeType, filename: node.filename, headers, body: { size: 0 } };
	if (node.children) {
		part.parts = node.children.map((c, i) => toPayload(c, partId === '' ? String(i) : `${partId}.${i}`));
	} else if (node.content) {
		part.body = node.attachmentId
			? { attachmentId: node.attachmentId, size: node.content.length }
			: { size: node.content.length, data: base64url(node.content) };
	}
	return part;
}

function escapeHtml(s: string): string {
	return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Gmail's snippet: the start of the visible text, whitespace collapsed, HTML-escaped. */
function makeSnippet(text: string, html?: string): string {
	const source = text.trim() !== '' ? text : (html ?? '').replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ');
	return escapeHtml(source.replace(/\s+/g, ' ').trim().slice(0, 200));
}

/**
 * @param uniq a per-message unique string, used for MIME boundaries and attachment ids so the
 *             same message always serializes to the same bytes.
 */
export function buildMessage(content: MessageContent, uniq: string): BuiltMessage {
	const attachments = new Map<string, Buffer>();
	let body: MimeNode = content.html
		? {
				mimeType: 'multipart/alternative',
				params: [],
				headers: [],
				filename: '',
				boundary: `000000000000alt${uniq}`,
				children: [textNode('text/plain', content.text), textNode('text/html', content.html)],
			}
		: textNode('text/plain', content.text);
	if (content.attachments.length > 0) {
		const attNodes = content.attachments.map((a, i): MimeNode => {
			const id = base64url(Buffer.from(`ANGjdJ${uniq}att${i}${'x'.repeat(24)}`)).slice(0, 48);
			const data = typeof a.content === 'string' ? Buffer.from(a.content, 'utf8') : a.content;
			attachments.set(id, data);
			const mimeType = a.mimeType ?? 'application/octet-stream';
			return { mimeType, params: [`name="${a.filename}"`], headers: [], filename: a.filename, content: data, attachmentId: id };
		});
		body = { mimeType: 'multipart/mixed', params: [], headers: [], filename: '', boundary: `000000000000mix${uniq}`, children: [body, ...attNodes] };
	}
	const top: Array<[string, string]> = [
		['MIME-Version', '1.0'],
		['Date', rfc2822Date(content.date)],
		['Message-ID', content.messageIdHeader],
		['Subject', content.subject],
		['From', content.from],
		['To', content.to],
	];
	if (content.cc) top.push(['Cc', content.cc]);
	top.push(...content.extraHeaders);
	const root: MimeNode = { ...body, headers: [...top, ...body.headers] };
	const raw = Buffer.from(serialize(root) + '\r\n', 'latin1');
	return { raw, payload: toPayload(root, ''), snippet: makeSnippet(content.text, content.html), attachments };
}

// ---- raw RFC 822 in, Gmail payload out (for emails written byte by byte in tests) -------------

// libmime comes with mailparser (a dependency of the package): RFC 2047 words as Gmail decodes them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const libmime = require('libmime') as { decodeWords(s: string): string };

export interface ParsedRaw extends BuiltMessage {
	/** Top-level headers, decoded, first of each name (lower-case keys). */
	headers: Record<string, string>;
	text: string;
	html?: string;
}

function splitHead(buf: Buffer): { head: string; body: Buffer } {
	const text = buf.toString('latin1');
	const m = /\r?\n\r?\n/.exec(text);
	if (!m) return { head: text, body: Buffer.alloc(0) };
	return { head: text.slice(0, m.index), body: buf.subarray(m.index + m[0].length) };
}

function headerList(head: string): Array<[string, string]> {
	return head
		.replace(/\r?\n[ \t]+/g, ' ')
		.split(/\r?\n/)
		.filter((line) => line.includes(':'))
		.map((line) => {
			const at = line.indexOf(':');
			// Header bytes are latin1 here; 8-bit UTF-8 headers are read back as UTF-8.
			return [line.slice(0, at).trim(), Buffer.from(line.slice(at + 1).trim(), 'latin1').toString('utf8')];
		});
}

function paramOf(value: string | undefined, name: string): string | undefined {
	const m = new RegExp(`${name}\\*?="?([^";]+)"?`, 'i').exec(value ?? '');
	if (!m) return undefined;
	const v = m[1].trim();
	return /^[\w-]+''/.test(v) ? decodeURIComponent(v.replace(/^[\w-]+''/, '')) : libmime.decodeWords(v);
}

function decodeTransfer(body: Buffer, cte: string | undefined): Buffer {
	const encoding = (cte ?? '').toLowerCase().trim();
	if (encoding === 'base64') return Buffer.from(body.toString('latin1').replace(/\s+/g, ''), 'base64');
	if (encoding === 'quoted-printable') {
		const s = body.toString('latin1').replace(/=\r?\n/g, '');
		const out: number[] = [];
		for (let i = 0; i < s.length; i++) {
			if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
				out.push(parseInt(s.slice(i + 1, i + 3), 16));
				i += 2;
			} else out.push(s.charCodeAt(i) & 0xff);
		}
		return Buffer.from(out);
	}
	return body;
}

function charsetDecode(bytes: Buffer, contentType: string | undefined): string {
	try {
		return new TextDecoder(paramOf(contentType, 'charset') ?? 'utf-8').decode(bytes);
	} catch {
		return bytes.toString('utf8');
	}
}

function rawPart(buf: Buffer, partId: string, out: ParsedRaw, uniq: string): GmailPart {
	const { head, body } = splitHead(buf);
	const list = headerList(head);
	const get = (name: string) => list.find(([n]) => n.toLowerCase() === name)?.[1];
	const contentType = get('content-type') ?? 'text/plain; charset=us-ascii';
	const mimeType = contentType.split(';')[0].trim().toLowerCase();
	const headers = list.map(([name, value]) => ({ name, value: libmime.decodeWords(value) }));
	const part: GmailPart = { partId, mimeType, filename: '', headers, body: { size: 0 } };
	if (mimeType.startsWith('multipart/')) {
		const boundary = paramOf(contentType, 'boundary') ?? '';
		const text = body.toString('latin1');
		const pieces = text.split(new RegExp(`(?:^|\\r?\\n)--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
		const children = pieces.slice(1).filter((p) => !p.startsWith('--'));
		part.parts = children.map((piece, i) =>
			rawPart(Buffer.from(piece.replace(/^[ \t]*\r?\n/, ''), 'latin1'), partId === '' ? String(i) : `${partId}.${i}`, out, uniq),
		);
		return part;
	}
	const data = decodeTransfer(body, get('content-transfer-encoding'));
	const disposition = get('content-disposition');
	const filename = paramOf(disposition, 'filename') ?? paramOf(contentType, 'name') ?? '';
	part.filename = filename;
	if (filename || /^attachment/i.test(disposition ?? '')) {
		const id = base64url(Buffer.from(`ANGjdJ${uniq}raw${out.attachments.size}${'x'.repeat(24)}`)).slice(0, 48);
		out.attachments.set(id, data);
		part.body = { attachmentId: id, size: data.length };
	} else {
		part.body = { size: data.length, data: base64url(data) };
		if (mimeType === 'text/plain' && out.text === '') out.text = charsetDecode(data, contentType);
		if (mimeType === 'text/html' && out.html === undefined) out.html = charsetDecode(data, contentType);
	}
	return part;
}

/** The Gmail view of a raw email: payload tree, decoded top-level headers, text and html. */
export function parseRawMessage(raw: Buffer, uniq: string): ParsedRaw {
	const out: ParsedRaw = { raw, payload: undefined as unknown as GmailPart, snippet: '', attachments: new Map(), headers: {}, text: '' };
	out.payload = rawPart(raw, '', out, uniq);
	for (const h of out.payload.headers) if (!(h.name.toLowerCase() in out.headers)) out.headers[h.name.toLowerCase()] = h.value;
	out.snippet = makeSnippet(out.text, out.html);
	return out;
}
