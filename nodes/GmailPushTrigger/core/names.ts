/**
 * Pub/Sub resource names as users paste them. The most common mistake is the short name
 * ("gmail-push") instead of the full one, so the message says which form is expected.
 */

type Kind = 'topic' | 'subscription';

const LABEL: Record<Kind, string> = { topic: 'Topic Name', subscription: 'Subscription Name' };

/** Project ids: 6-30 lowercase letters, digits, hyphens; resource ids: a letter, then 2-254 more. */
function pattern(kind: Kind): RegExp {
	return new RegExp(`^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/${kind}s/[A-Za-z][A-Za-z0-9\\-_.~+%]{2,254}$`);
}

/** What is wrong with a topic or subscription name, or undefined when it looks right. */
export function pubSubNameProblem(kind: Kind, name: string): string | undefined {
	const form = `projects/<project-id>/${kind}s/<${kind}>`;
	if (!name.trim()) return `${LABEL[kind]} is empty: enter ${form}`;
	if (pattern(kind).test(name.trim())) return undefined;
	if (!name.startsWith('projects/')) {
		return `${LABEL[kind]} "${name}" must be the full name ${form}, not only the ${kind}'s short name`;
	}
	return `${LABEL[kind]} "${name}" is not of the form ${form} (project ids are 6-30 lowercase letters, digits and hyphens; ${kind} names start with a letter and have 3-255 characters)`;
}

export function topicNameProblem(name: string): string | undefined {
	return pubSubNameProblem('topic', name);
}

export function subscriptionNameProblem(name: string): string | undefined {
	return pubSubNameProblem('subscription', name);
}

export function projectOfName(name: string): string | undefined {
	return /^projects\/([^/]+)\//.exec(name)?.[1];
}
