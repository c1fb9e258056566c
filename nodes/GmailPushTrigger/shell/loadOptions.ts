/** The label picker in the node panel. */
import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';
import { gmailPortFor } from './context';
import { toNodeApiError } from './errors';
import type { AuthenticationMethod } from '../transport/auth';

export async function getLabels(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const authentication = this.getNodeParameter('authentication', 'oAuth2') as AuthenticationMethod;
	try {
		const labels = await (await gmailPortFor(this, { authentication })).listLabels();
		return labels
			.map((label) => ({ name: label.name, value: label.id }))
			.sort((a, b) => a.name.localeCompare(b.name));
	} catch (error) {
		throw toNodeApiError(this.getNode(), error);
	}
}
