/**
 * Loading the node must not load @google-cloud/pubsub (gRPC and its protobufs): only pull
 * delivery needs it, so n8n processes with push or poll triggers never pay for it.
 */
import { execFileSync } from 'child_process';
import path from 'path';

const root = path.resolve(__dirname, '..', '..');

it('requiring the node and its credentials loads no @google-cloud/pubsub, the pull transport does', () => {
	const script = `
		require('./nodes/GmailPushTrigger/GmailPushTrigger.node.ts');
		require('./credentials/GmailPushOAuth2Api.credentials.ts');
		require('./credentials/GmailPushServiceAccountApi.credentials.ts');
		const loaded = () => Object.keys(require.cache).some((k) => k.includes('@google-cloud/pubsub'));
		const before = loaded();
		require('./nodes/GmailPushTrigger/transport/pubsub.ts');
		console.log(JSON.stringify({ before, after: loaded() }));
	`;
	const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: root, encoding: 'utf8' });
	expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ before: false, after: true });
});
