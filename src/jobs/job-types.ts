/** Job types the intake enqueues; their handlers register with the worker under these names. */
export const JOB_TYPES = {
  contactSync: 'contact.sync',
  activityReplicate: 'activity.replicate',
  activityUpdate: 'activity.update',
  activityDelete: 'activity.delete',
  /** Deletes a deleted contact's Pipedrive person (PIPEDRIVE_DELETE_PERSONS), under the contact's serial key. */
  personDelete: 'person.delete'
} as const
