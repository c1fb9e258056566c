/**
 * Attachments -> n8n binary data, through n8n's own helper: n8n's filesystem and S3 binary
 * modes then store them, and the attachment's bytes are let go as soon as n8n has them.
 * Property names as n8n's Gmail Trigger names them: <prefix>0, <prefix>1, …
 */
import type { IBinaryData } from 'n8n-workflow';
import type { OutputItem } from '../core/output';

export const DEFAULT_ATTACHMENT_PREFIX = 'attachment_';

export interface BinaryHelpers {
	helpers: { prepareBinaryData(buffer: Buffer, filePath?: string, mimeType?: string): Promise<IBinaryData> };
}

export async function storeAttachments(context: BinaryHelpers, items: OutputItem[], prefix: string): Promise<OutputItem[]> {
	for (const item of items) {
		const attachments = item.attachments;
		if (!attachments?.length) continue;
		const binary: Record<string, IBinaryData> = {};
		for (let i = 0; i < attachments.length; i++) {
			const attachment = attachments[i];
			binary[`${prefix}${i}`] = await context.helpers.prepareBinaryData(attachment.content, attachment.filename, attachment.contentType);
			attachments[i] = { ...attachment, content: Buffer.alloc(0) };
		}
		item.binary = binary;
		delete item.attachments;
	}
	return items;
}
