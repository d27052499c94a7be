CREATE TABLE "leases" (
	"name" text PRIMARY KEY NOT NULL,
	"token" uuid NOT NULL,
	"until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "activities" ALTER COLUMN "payload_person_id" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "activities" ALTER COLUMN "pipedrive_activity_id" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "contacts" ALTER COLUMN "pipedrive_person_id" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "contacts" ALTER COLUMN "pipedrive_org_id" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "organizations" ALTER COLUMN "pipedrive_org_id" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "pipedrive_user_id" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "person_create_sent_at" timestamp with time zone;