/**
 * The node's description is public: saved workflows depend on its parameter names, types,
 * defaults, displayOptions and their order in the panel. The fixture was taken from the node as
 * it stood before its description was split into files (commit 674ac17); any change to what n8n
 * sees shows here. Regenerate it only for a deliberate, compatible change.
 */
import fs from 'fs';
import path from 'path';
import { GmailPushTrigger } from '../../nodes/GmailPushTrigger/GmailPushTrigger.node';

const fixture = path.resolve(__dirname, '..', 'fixtures', 'nodeDescription.json');

it('the node description n8n loads is the recorded one, byte for byte', () => {
	const built = JSON.stringify(new GmailPushTrigger().description, null, '\t') + '\n';
	expect(built).toBe(fs.readFileSync(fixture, 'utf8'));
});
