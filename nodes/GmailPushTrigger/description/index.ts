/**
 * Every parameter of the Gmail Push Trigger, in the order the panel shows them. Names are public:
 * saved workflows depend on them (test/unit/description.test.ts holds the panel as n8n sees it).
 */
import type { INodeProperties } from 'n8n-workflow';
import { authenticationProperty, deliveryProperty, pollIntervalProperty, pullNotice, pushNotice } from './delivery';
import { eventsProperty, filtersProperty, labelFilterBehaviorProperty, labelIdsProperty } from './filters';
import {
	pushSubscriptionNameProperty,
	setUpGoogleCloudProperties,
	subscriptionNameProperty,
	topicNameProperty,
} from './googleCloud';
import { optionsProperty } from './options';
import { outputProperty } from './output';
import {
	pushAudienceProperty,
	pushAuthenticationProperty,
	pushNoAuthWarning,
	pushSecretProperty,
	pushServiceAccountEmailProperty,
} from './pushAuthentication';

export const triggerProperties: INodeProperties[] = [
	authenticationProperty,
	deliveryProperty,
	pushNotice,
	pullNotice,
	...setUpGoogleCloudProperties,
	topicNameProperty,
	subscriptionNameProperty,
	pushSubscriptionNameProperty,
	pollIntervalProperty,
	pushAuthenticationProperty,
	pushServiceAccountEmailProperty,
	pushAudienceProperty,
	pushSecretProperty,
	pushNoAuthWarning,
	labelIdsProperty,
	labelFilterBehaviorProperty,
	eventsProperty,
	filtersProperty,
	outputProperty,
	optionsProperty,
];
