/**
 * A local CA and a server certificate for Google's hostnames, made with the openssl CLI and cached
 * in a temp folder. A child process trusts it through NODE_EXTRA_CA_CERTS=<caCertPath>.
 */
import { execFileSync } from 'child_process';
import { X509Certificate, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const FAKE_GOOGLE_HOSTNAMES = [
	'*.googleapis.com',
	'gmail.googleapis.com',
	'oauth2.googleapis.com',
	'www.googleapis.com',
	'pubsub.googleapis.com',
	'accounts.google.com',
	// The examples' Slack node (test/support/fakeSlack.ts) is answered by the same fake.
	'slack.com',
] as const;

export interface TlsMaterial {
	dir: string;
	caCertPath: string;
	certPath: string;
	keyPath: string;
	ca: Buffer;
	cert: Buffer;
	key: Buffer;
}

/** Bump when the certificate contents change, so stale caches are not reused. */
const CACHE_VERSION = 'v2';

export function defaultTlsDir(): string {
	return process.env.FAKE_GOOGLE_TLS_DIR ?? path.join(os.tmpdir(), `n8n-gmail-push-fake-google-tls-${CACHE_VERSION}`);
}

function files(dir: string): Pick<TlsMaterial, 'caCertPath' | 'certPath' | 'keyPath'> {
	return { caCertPath: path.join(dir, 'ca.crt'), certPath: path.join(dir, 'server.crt'), keyPath: path.join(dir, 'server.key') };
}

function load(dir: string): TlsMaterial {
	const f = files(dir);
	return { dir, ...f, ca: fs.readFileSync(f.caCertPath), cert: fs.readFileSync(f.certPath), key: fs.readFileSync(f.keyPath) };
}

/** Usable if present, signed by the cached CA, valid for another day and naming every host. */
function isUsable(dir: string): boolean {
	try {
		const m = load(dir);
		const ca = new X509Certificate(m.ca);
		const leaf = new X509Certificate(m.cert);
		const san = leaf.subjectAltName ?? '';
		return (
			leaf.verify(ca.publicKey) &&
			new Date(leaf.validTo).getTime() > Date.now() + 86_400_000 &&
			new Date(ca.validTo).getTime() > Date.now() + 86_400_000 &&
			FAKE_GOOGLE_HOSTNAMES.every((h) => san.includes(`DNS:${h}`))
		);
	} catch {
		return false;
	}
}

/** Runs the openssl CLI in `cwd`; a failure carries openssl's own message. */
export function openssl(args: string[], cwd: string): void {
	try {
		execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
	} catch (e) {
		const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
		throw new Error(`openssl ${args[0]} failed: ${stderr || String(e)}`);
	}
}

function generate(dir: string): void {
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(
		path.join(dir, 'openssl.cnf'),
		[
			'[req]',
			'distinguished_name = dn',
			'prompt = no',
			'[dn]',
			'CN = n8n-nodes-gmail-push fake Google test CA',
			'[v3_ca]',
			'basicConstraints = critical, CA:TRUE',
			'keyUsage = critical, keyCertSign, cRLSign',
			'subjectKeyIdentifier = hash',
			'[v3_leaf]',
			'basicConstraints = critical, CA:FALSE',
			'keyUsage = critical, digitalSignature, keyEncipherment',
			'extendedKeyUsage = serverAuth',
			`subjectAltName = ${[...FAKE_GOOGLE_HOSTNAMES.map((h) => `DNS:${h}`), 'IP:127.0.0.1'].join(', ')}`,
			'subjectKeyIdentifier = hash',
			'authorityKeyIdentifier = keyid',
			'',
		].join('\n'),
	);
	openssl(
		['req', '-x509', '-config', 'openssl.cnf', '-extensions', 'v3_ca', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-keyout', 'ca.key', '-out', 'ca.crt'],
		dir,
	);
	openssl(['req', '-new', '-config', 'openssl.cnf', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=gmail.googleapis.com', '-keyout', 'server.key', '-out', 'server.csr'], dir);
	openssl(
		[
			'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
			'-days', '825', '-sha256', '-extfile', 'openssl.cnf', '-extensions', 'v3_leaf', '-out', 'server.crt',
		],
		dir,
	);
}

/**
 * Returns the cached certificates, creating them on first use. Several jest workers may race
 * here: each builds in its own temp dir and renames it into place; the loser uses the winner's.
 */
export function ensureFakeGoogleTls(dir: string = defaultTlsDir()): TlsMaterial {
	if (isUsable(dir)) return load(dir);
	const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
	generate(tmp);
	if (fs.existsSync(dir) && !isUsable(dir)) fs.rmSync(dir, { recursive: true, force: true });
	try {
		fs.renameSync(tmp, dir);
	} catch {
		fs.rmSync(tmp, { recursive: true, force: true });
	}
	if (!isUsable(dir)) throw new Error(`fake Google TLS material in ${dir} is unusable`);
	return load(dir);
}
