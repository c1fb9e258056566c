/** What the set-up check's parts share: its input, where lines go, and how a missing or unreadable resource reads. */
import type { PubSubAdminPort } from '../transport/pubsubAdminPort';
import { projectOfName } from '../core/names';
import { redact } from '../core/redact';
import { finding, type CheckLine, type CheckStatus, type Finding, type Grant, type Prerequisite, type Remedy, type SetUpRefusal } from './findings';
import { isDenied, isScopeMissing, type GoogleFailure } from './googleFailure';
import type { WantedSubscription } from './subscription';

export interface SetUpCheckInput {
	delivery: 'push' | 'pull' | 'poll';
	topic: string;
	/** push and pull: the subscription the node reads or pushes through; undefined when not named. */
	subscription?: WantedSubscription;
	/** Set Up Google Cloud is on: what is missing is made at activation rather than failing. */
	setUpOn: boolean;
	/** The grant write Google refused at activation, when it did (an organisation policy shows only then). */
	grantRefusal?: string;
	/**
	 * Google refused the set-up part-way (401/403): what is missing fails, saying what to grant,
	 * and what cannot be read fails too, since activation goes on only when all is known to be there.
	 */
	setUpRefusal?: SetUpRefusal;
}

export type CheckAdmin = Pick<PubSubAdminPort, 'getTopic' | 'getTopicIamPolicy' | 'getSubscription'>;

export interface SetUpCheckPorts {
	gmail: { getProfile(): Promise<{ emailAddress: string }> };
	/** Absent when no Pub/Sub check is possible (poll delivery needs none). */
	admin?: CheckAdmin;
}

/** What the check's parts share: where to add lines, and how a missing or unreadable resource reads. */
export interface CheckContext {
	input: SetUpCheckInput;
	project: string;
	add(prerequisite: Prerequisite, status: CheckStatus, ...findings: Finding[]): void;
	/** Google's message, masked: it may quote the push endpoint, hence the secret. */
	mask(text: string): string;
	/** How a missing resource comes to be; `grant` is what the set-up needs when it was refused. */
	remedy(grant?: Grant): [CheckStatus, Remedy];
	unreadable(f: GoogleFailure): [CheckStatus, Finding];
}

export function checkContext(input: SetUpCheckInput, lines: CheckLine[]): CheckContext {
	const project = projectOfName(input.topic) ?? '<project>';
	const refusal = input.setUpRefusal;
	const mask = (text: string) => redact(text, [input.subscription?.pushEndpoint]);
	const adminGrant: Grant | undefined = refusal && { ...(refusal.serviceAccount && { serviceAccount: refusal.serviceAccount }), project, pubSubAdmin: true };
	return {
		input,
		project,
		mask,
		add: (prerequisite, status, ...findings) => lines.push({ prerequisite, status, findings }),
		remedy: (grant = adminGrant) => {
			if (grant) return ['fails', { kind: 'grant', grant }];
			return input.setUpOn ? ['at-activation', { kind: 'at-activation' }] : ['fails', { kind: 'by-hand' }];
		},
		unreadable: (f) => {
			if (!adminGrant || !isDenied(f) || isScopeMissing(f)) return ['unknown', finding('not-checked', { message: mask(f.message) })];
			const fix = f.status === 401 ? { kind: 'reconnect' as const } : { kind: 'grant' as const, grant: adminGrant, pull: input.delivery === 'pull' };
			return ['fails', finding('unreadable', { message: mask(f.message), fix })];
		},
	};
}

