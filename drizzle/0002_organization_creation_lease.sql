ALTER TABLE "organizations" ADD COLUMN "creating_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "creating_token" uuid;