/** Options: attachments, drafts, and how far back and how often the node syncs by itself. */
import type { INodeProperties } from 'n8n-workflow';

export const optionsProperty: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	options: [
		{
			displayName: 'Attachment Prefix',
			name: 'dataPropertyAttachmentsPrefixName',
			type: 'string',
			default: 'attachment_',
			description: 'Prefix of the binary properties that hold the attachments: attachment_0, attachment_1, …',
			displayOptions: { show: { '/output': ['email'] } },
		},
		{
			displayName: 'Catch-Up Window (Hours)',
			name: 'catchUpWindowHours',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 720 },
			default: 168,
			description:
				'If Gmail no longer has the history since the last sync (it keeps about a week), new emails since the last emitted one are found with a search instead, looking back at most this many hours (and at most 500 emails)',
		},
		{
			displayName: 'Download Attachments',
			name: 'downloadAttachments',
			type: 'boolean',
			default: false,
			description: 'Whether to add each attachment (inline images included) to the item as a file',
			displayOptions: { show: { '/output': ['email'] } },
		},
		{
			displayName: 'Include Drafts',
			name: 'includeDrafts',
			type: 'boolean',
			default: false,
			description: 'Whether to also emit drafts (they are skipped by default, as in the built-in Gmail Trigger)',
		},
		{
			displayName: 'Safety Net Sync (Minutes)',
			name: 'safetyNetMinutes',
			type: 'number',
			typeOptions: { minValue: 5, maxValue: 1440 },
			default: 60,
			description:
				'Gmail and Pub/Sub may drop a notification now and then. When no sync has happened for this long, the node asks Gmail for changes itself, so no email waits longer than this.',
			displayOptions: { show: { '/delivery': ['push', 'pull'] } },
		},
	],
};
