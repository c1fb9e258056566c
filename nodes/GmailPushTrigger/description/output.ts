/** What each item holds: the shape of the email the workflow receives. */
import type { INodeProperties } from 'n8n-workflow';

export const outputProperty: INodeProperties = {
	displayName: 'Output',
	name: 'output',
	type: 'options',
	options: [
		{
			name: 'Simplified',
			value: 'simplified',
			description: 'Same shape as n8n\'s built-in Gmail Trigger: From, To, Subject, snippet, labels',
		},
		{
			name: 'Whole Email',
			value: 'email',
			description:
				'Same shape as n8n\'s built-in Gmail Trigger with Simplify off: text, html, subject, date, from, to, headers; attachments as files with Download Attachments',
		},
		{
			name: 'Gmail API Message',
			value: 'full',
			description: 'The message as Gmail\'s API returns it, with decoded text and HTML bodies and the attachments listed (not downloaded)',
		},
	],
	default: 'simplified',
};
