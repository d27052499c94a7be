/** Job types the intake enqueues; their handlers register with the worker under these names. */
export const JOB_TYPES = {
  contactSync: 'contact.sync',
  activityReplicate: 'activity.replicate'
} as const

export type JobType = (typeof JOB_TYPES)[keyof typeof JOB_TYPES]
