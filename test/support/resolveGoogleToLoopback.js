'use strict';
/**
 * Preload for a child Node process (e.g. a real n8n) under test:
 *
 *   NODE_OPTIONS="--require /abs/path/test/support/resolveGoogleToLoopback.js"
 *   NODE_EXTRA_CA_CERTS=<fake Google CA>   (so TLS to the fake verifies)
 *   FAKE_GOOGLE_PORT=<port>                (optional: the fake's HTTPS port when it is not 443)
 *
 * Every DNS lookup of *.googleapis.com and accounts.google.com answers 127.0.0.1, so the
 * process's unmodified Google clients reach the fake Google server; so does slack.com, for the
 * examples' Slack node (test/support/fakeSlack.ts). Other names resolve normally.
 * Patching dns.lookup covers http/https, node-fetch, axios and native fetch (undici), because
 * net.Socket#connect reads dns.lookup at call time.
 */
const dns = require('dns');
const net = require('net');
const util = require('util');

const MARK = Symbol.for('n8n-nodes-gmail-push.resolveGoogleToLoopback');
if (!globalThis[MARK]) {
	globalThis[MARK] = true;

	const LOOPBACK = '127.0.0.1';
	const PORT = process.env.FAKE_GOOGLE_PORT ? Number(process.env.FAKE_GOOGLE_PORT) : undefined;

	const isGoogleHost = (hostname) => {
		if (typeof hostname !== 'string') return false;
		const h = hostname.toLowerCase().replace(/\.$/, '');
		return h === 'googleapis.com' || h.endsWith('.googleapis.com') || h === 'accounts.google.com' || h === 'slack.com';
	};

	const wantsAll = (options) => typeof options === 'object' && options !== null && options.all === true;

	const originalLookup = dns.lookup;
	function lookup(hostname, options, callback) {
		if (!isGoogleHost(hostname)) return originalLookup.apply(dns, arguments);
		const cb = typeof options === 'function' ? options : callback;
		const all = wantsAll(options);
		// Always IPv4: the fake listens on 127.0.0.1 only, even if the caller asked for family 6.
		process.nextTick(() => (all ? cb(null, [{ address: LOOPBACK, family: 4 }]) : cb(null, LOOPBACK, 4)));
		return {};
	}
	// util.promisify(dns.lookup) must keep resolving to {address, family} like the original.
	lookup[util.promisify.custom] = (hostname, options) => dns.promises.lookup(hostname, options);
	dns.lookup = lookup;

	const originalPromisesLookup = dns.promises.lookup;
	dns.promises.lookup = async function promisesLookup(hostname, options) {
		if (!isGoogleHost(hostname)) return originalPromisesLookup.call(dns.promises, hostname, options);
		return wantsAll(options) ? [{ address: LOOPBACK, family: 4 }] : { address: LOOPBACK, family: 4 };
	};

	if (PORT !== undefined && Number.isInteger(PORT) && PORT > 0) {
		// Socket#connect is where net.connect, tls.connect, http(s) agents and undici all end up;
		// patching it (rather than net.connect) also catches references captured at load time.
		const rewrite = (options) =>
			options && typeof options === 'object' && !options.path && isGoogleHost(options.host) && Number(options.port) === 443
				? { ...options, port: PORT }
				: options;
		const originalConnect = net.Socket.prototype.connect;
		net.Socket.prototype.connect = function connect(...args) {
			if (Array.isArray(args[0])) {
				// net.connect() passes its normalized [options, cb] array (tagged with a private symbol): edit in place.
				args[0][0] = rewrite(args[0][0]);
			} else if (typeof args[0] === 'object' && args[0] !== null) {
				args[0] = rewrite(args[0]);
			} else if (Number(args[0]) === 443 && isGoogleHost(args[1])) {
				args[0] = PORT;
			}
			return originalConnect.apply(this, args);
		};
	}
}
