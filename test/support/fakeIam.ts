/**
 * Google's IAM for Pub/Sub topics, in front of the real Pub/Sub emulator (which has none:
 * setIamPolicy answers 501, getIamPolicy 404). A loopback HTTP proxy: `:getIamPolicy` and
 * `:setIamPolicy` on a topic are answered here, as Google answers them; everything else goes
 * to the emulator unchanged.
 *
 * Like Google: a policy carries an etag that changes with every write; a write whose etag is
 * not the current one is refused with 409 ABORTED (a concurrent change); a write without an
 * etag replaces the policy; a topic that does not exist answers 404; an existing topic without
 * a policy answers `{ etag }` only. `beforeSet` lets a test change the policy between someone's
 * read and their write, the race a read-modify-write must survive.
 *
 * Also like Google, for the set-up check: a project in `disabledProjects` answers every call with
 * 403 SERVICE_DISABLED ("Cloud Pub/Sub API has not been used in project … or it is disabled"),
 * and `allowedMemberDomains` plays the organisation policy iam.allowedPolicyMemberDomains: a
 * policy naming a member outside those domains is refused with 400 FAILED_PRECONDITION.
 *
 * And the caller's own permissions, refused as Pub/Sub refuses them (403 PERMISSION_DENIED "User
 * not authorized to perform this action.", whichever permission is missing): `callerMayOnlyRead`
 * plays a caller with Pub/Sub Viewer only (it may get topics and subscriptions, but neither
 * write nor read a topic's IAM policy); `callerMayActAs` lists the service accounts the caller
 * holds iam.serviceAccounts.actAs on (Service Account User), which creating or changing a push
 * subscription that signs as one of them requires. Pub/Sub Admin does not include it.
 */
import http from 'http';
import type { AddressInfo } from 'net';
import { plainRequest } from './pubsubEmulator';
import type { Route } from './fakeGoogle/server';

const PUBSUB_SCOPE = 'https://www.googleapis.com/auth/pubsub';

export interface FakeIamBinding {
	role: string;
	members?: string[];
	condition?: unknown;
}

export interface FakeIamPolicy {
	version?: number;
	etag?: string;
	bindings?: FakeIamBinding[];
}

export interface FakeIam {
	/** Where clients send Pub/Sub REST calls (http://127.0.0.1:PORT). */
	readonly baseUrl: string;
	/** Calls seen, e.g. 'topics.getIamPolicy', 'topics.setIamPolicy', 'PUT projects/p/topics/t'. */
	readonly calls: string[];
	count(call: string): number;
	policy(topic: string): FakeIamPolicy | undefined;
	/** Writes a policy as another party would (the etag changes). */
	setPolicy(topic: string, policy: Omit<FakeIamPolicy, 'etag'>): void;
	/** Runs once before the next accepted or refused setIamPolicy is judged. */
	beforeSet: ((topic: string) => void) | undefined;
	/** Projects whose Pub/Sub API is "disabled". */
	readonly disabledProjects: Set<string>;
	/** When set, the domains an organisation policy allows in IAM policies (domain restricted sharing). */
	allowedMemberDomains: string[] | undefined;
	/** The caller holds Pub/Sub Viewer only. */
	callerMayOnlyRead: boolean;
	/** When set, the service accounts the caller may act as; unset: any. */
	callerMayActAs: string[] | undefined;
	close(): Promise<void>;
}

export async function startFakeIam(emulatorBaseUrl: string): Promise<FakeIam> {
	const policies = new Map<string, FakeIamPolicy>();
	let version = 0;
	const nextEtag = () => Buffer.from(`etag-${++version}`).toString('base64');
	const calls: string[] = [];
	const reply = (res: http.ServerResponse, status: number, body: unknown) => {
		res.writeHead(status, { 'content-type': 'application/json' });
		res.end(JSON.stringify(body));
	};
	const googleError = (code: number, status: string, message: string) => ({ error: { code, status, message } });
	const topicExists = async (topic: string) => (await plainRequest(`${emulatorBaseUrl}/v1/${topic}`, 'GET')).status === 200;

	const fake: FakeIam = {
		baseUrl: '',
		calls,
		count: (call) => calls.filter((c) => c === call).length,
		policy: (topic) => structuredClone(policies.get(topic)),
		setPolicy: (topic, policy) => {
			policies.set(topic, { ...structuredClone(policy), etag: nextEtag() });
		},
		beforeSet: undefined,
		disabledProjects: new Set<string>(),
		allowedMemberDomains: undefined,
		callerMayOnlyRead: false,
		callerMayActAs: undefined,
		close: async () =>
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};

	/** The permission the caller lacks for this call, if any (Pub/Sub checks it before anything else). */
	const callerRefusal = (method: string, pathname: string, body: string): string | undefined => {
		const isWrite = method !== 'GET' || pathname.endsWith(':getIamPolicy');
		if (fake.callerMayOnlyRead && isWrite) return 'write';
		const signer = /\/subscriptions\/[^/:]+(:modifyPushConfig)?$/.test(pathname) && method !== 'GET' && method !== 'DELETE' ? signerOf(body) : undefined;
		if (signer && fake.callerMayActAs && !fake.callerMayActAs.includes(signer)) return `actAs ${signer}`;
		return undefined;
	};

	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			void (async () => {
				const body = Buffer.concat(chunks).toString('utf8');
				const url = new URL(req.url ?? '/', 'http://fake');
				const project = /^\/v1\/projects\/([^/]+)\//.exec(url.pathname)?.[1];
				if (project && fake.disabledProjects.has(project)) {
					calls.push(`disabled ${req.method} ${url.pathname.replace(/^\/v1\//, '')}`);
					return reply(res, 403, {
						error: {
							code: 403,
							status: 'PERMISSION_DENIED',
							message: `Cloud Pub/Sub API has not been used in project ${project} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/pubsub.googleapis.com/overview?project=${project} then retry.`,
							details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED', domain: 'googleapis.com' }],
						},
					});
				}
				const refusal = callerRefusal(req.method ?? 'GET', url.pathname, body);
				if (refusal) {
					calls.push(`refused ${refusal} ${req.method} ${url.pathname.replace(/^\/v1\//, '')}`);
					return reply(res, 403, googleError(403, 'PERMISSION_DENIED', 'User not authorized to perform this action.'));
				}
				const iam = /^\/v1\/(projects\/[^/]+\/topics\/[^/:]+):(getIamPolicy|setIamPolicy)$/.exec(url.pathname);
				if (!iam) {
					calls.push(`${req.method} ${url.pathname.replace(/^\/v1\//, '')}`);
					const forwarded = await plainRequest(`${emulatorBaseUrl}${url.pathname}${url.search}`, req.method ?? 'GET', body || undefined, { 'content-type': 'application/json' });
					res.writeHead(forwarded.status, { 'content-type': 'application/json' });
					res.end(forwarded.text);
					return;
				}
				const [, topic, method] = iam;
				calls.push(`topics.${method}`);
				if (!(await topicExists(topic))) return reply(res, 404, googleError(404, 'NOT_FOUND', 'Resource not found (resource=' + topic.split('/').pop() + ').'));
				if (method === 'getIamPolicy') {
					if (req.method !== 'GET') return reply(res, 404, googleError(404, 'NOT_FOUND', 'getIamPolicy is GET'));
					let policy = policies.get(topic);
					if (!policy) policies.set(topic, (policy = { etag: nextEtag() }));
					return reply(res, 200, policy);
				}
				if (req.method !== 'POST') return reply(res, 404, googleError(404, 'NOT_FOUND', 'setIamPolicy is POST'));
				const hook = fake.beforeSet;
				fake.beforeSet = undefined;
				hook?.(topic);
				const wanted = (JSON.parse(body || '{}') as { policy?: FakeIamPolicy }).policy;
				if (!wanted) return reply(res, 400, googleError(400, 'INVALID_ARGUMENT', 'policy is required'));
				const allowed = fake.allowedMemberDomains;
				const outside = (wanted.bindings ?? []).flatMap((b) => b.members ?? []).filter((m) => allowed && !allowed.some((d) => m.toLowerCase().endsWith(`@${d}`)));
				if (outside.length > 0) {
					return reply(res, 400, googleError(400, 'FAILED_PRECONDITION', 'One or more users named in the policy do not belong to a permitted customer,  perhaps due to an organization policy.'));
				}
				const current = policies.get(topic);
				if (wanted.etag !== undefined && wanted.etag !== current?.etag) {
					return reply(res, 409, googleError(409, 'ABORTED', 'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.'));
				}
				const stored = { ...(wanted.version !== undefined && { version: wanted.version }), bindings: wanted.bindings ?? [], etag: nextEtag() };
				policies.set(topic, stored);
				return reply(res, 200, stored);
			})().catch((error: Error) => reply(res, 500, googleError(500, 'INTERNAL', error.message)));
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	(fake as { baseUrl: string }).baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return fake;
}

/** The service account a subscription body (create, patch, modifyPushConfig) makes Pub/Sub sign its pushes as. */
function signerOf(body: string): string | undefined {
	try {
		const parsed = JSON.parse(body || '{}') as { pushConfig?: { oidcToken?: { serviceAccountEmail?: string } }; subscription?: { pushConfig?: { oidcToken?: { serviceAccountEmail?: string } } } };
		return (parsed.pushConfig ?? parsed.subscription?.pushConfig)?.oidcToken?.serviceAccountEmail || undefined;
	} catch {
		return undefined;
	}
}

/**
 * Routes for the fake Google (which n8n reaches as *.googleapis.com): Pub/Sub's REST API, as
 * pubsub.googleapis.com serves it, answered by the fake IAM and the emulator behind it. A token
 * without the Pub/Sub scope is refused, as Google refuses it.
 */
export function pubSubAdminRoutes(iam: FakeIam): Route[] {
	return (['GET', 'PUT', 'POST', 'DELETE'] as const).map((httpMethod) => ({
		name: `pubsub.${httpMethod}`,
		httpMethod,
		pattern: /^\/v1\/projects\/[^/]+\/(topics|subscriptions)\//,
		auth: true,
		handle: async (req) => {
			if (!req.token?.scopes.includes(PUBSUB_SCOPE)) {
				return { status: 403, body: { error: { code: 403, status: 'PERMISSION_DENIED', message: 'Request had insufficient authentication scopes.' } } };
			}
			const query = req.query.toString();
			const reply = await plainRequest(`${iam.baseUrl}${req.path}${query ? `?${query}` : ''}`, req.httpMethod, req.body.length > 0 ? req.body.toString('utf8') : undefined, {
				'content-type': 'application/json',
			});
			return { status: reply.status, body: reply.text ? (JSON.parse(reply.text) as unknown) : {} };
		},
	}));
}
