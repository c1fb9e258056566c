/** Which changes to which emails start the workflow: labels, events and Gmail's search filters. */
import type { INodeProperties } from 'n8n-workflow';

export const labelIdsProperty: INodeProperties = {
	displayName: 'Label Names or IDs',
	name: 'labelIds',
	type: 'multiOptions',
	typeOptions: { loadOptionsMethod: 'getLabels' },
	default: ['INBOX'],
	description:
		'Only changes to messages with these labels. Leave empty for the whole mailbox. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
};

export const labelFilterBehaviorProperty: INodeProperties = {
	displayName: 'Label Filter Behavior',
	name: 'labelFilterBehavior',
	type: 'options',
	options: [
		{ name: 'Include', value: 'include', description: 'Only messages with at least one of the labels' },
		{ name: 'Exclude', value: 'exclude', description: 'Only messages with none of the labels' },
	],
	default: 'include',
};

export const eventsProperty: INodeProperties = {
	displayName: 'Events',
	name: 'events',
	type: 'multiOptions',
	options: [
		{ name: 'Label Added', value: 'labelAdded', description: 'A label was added to a message' },
		{ name: 'Label Removed', value: 'labelRemoved', description: 'A label was removed from a message' },
		{ name: 'Message Added', value: 'messageAdded', description: 'A new email arrived (or was sent or drafted)' },
		{ name: 'Message Deleted', value: 'messageDeleted', description: 'An email was permanently deleted' },
	],
	default: ['messageAdded'],
	required: true,
};

export const filtersProperty: INodeProperties = {
	displayName: 'Filters',
	name: 'filters',
	type: 'collection',
	placeholder: 'Add Filter',
	default: {},
	description: 'The filters of n8n\'s Gmail Trigger, with the same names and meaning. Gmail itself checks each new email against them.',
	options: [
		{
			displayName: 'Include Spam and Trash',
			name: 'includeSpamTrash',
			type: 'boolean',
			default: false,
			description: 'Whether to also emit new emails that land in Spam or Trash',
		},
		{
			displayName: 'Read Status',
			name: 'readStatus',
			type: 'options',
			default: 'both',
			options: [
				{ name: 'Unread and Read Emails', value: 'both' },
				{ name: 'Unread Emails Only', value: 'unread' },
				{ name: 'Read Emails Only', value: 'read' },
			],
			description: 'Whether the email is read at the moment the node sees it',
		},
		{
			displayName: 'Search',
			name: 'q',
			type: 'string',
			default: '',
			placeholder: 'has:attachment subject:invoice',
			description:
				'Only emails that this Gmail search finds, in the syntax of the Gmail search box. <a href="https://support.google.com/mail/answer/7190">Learn more</a>.',
		},
		{
			displayName: 'Sender',
			name: 'sender',
			type: 'string',
			default: '',
			placeholder: 'alice@example.com',
			description: 'Only emails from this sender (an address, a name or part of it), as Gmail\'s from: search',
		},
	],
};
