CREATE TABLE "activities" (
	"id" text PRIMARY KEY NOT NULL,
	"contact_id" text NOT NULL,
	"type" text NOT NULL,
	"subject" text NOT NULL,
	"note" text,
	"due_at" text,
	"duration_minutes" integer,
	"done" boolean DEFAULT false NOT NULL,
	"owner_id" text,
	"owner_email" text,
	"owner_name" text,
	"payload_person_id" integer,
	"crm_created_at" timestamp with time zone NOT NULL,
	"pipedrive_activity_id" integer,
	"replicated_to_pipedrive" boolean DEFAULT false NOT NULL,
	"pipedrive_sync_attempts" integer DEFAULT 0 NOT NULL,
	"last_pipedrive_sync_attempt" timestamp with time zone,
	"state" text DEFAULT 'pending' NOT NULL,
	"last_error" text,
	"warning" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contacts" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"phone" text,
	"warmness_score" double precision NOT NULL,
	"owner_id" text NOT NULL,
	"owner_email" text NOT NULL,
	"owner_name" text,
	"organization_id" text,
	"pipedrive_person_id" integer,
	"pipedrive_org_id" integer,
	"source_updated_at" timestamp with time zone NOT NULL,
	"sync_state" text DEFAULT 'pending' NOT NULL,
	"last_error" text,
	"warning" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "jobs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"type" text NOT NULL,
	"entity_id" text NOT NULL,
	"serial_key" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"lock_token" uuid,
	"started_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "organizations" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"industry" text,
	"country" text,
	"pipedrive_org_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "users_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"crm_id" text,
	"email" text NOT NULL,
	"name" text,
	"pipedrive_user_id" integer,
	"api_token_ciphertext" text,
	"api_token_iv" text,
	"api_token_tag" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "webhook_inbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "webhook_inbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"webhook_id" text NOT NULL,
	"type" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"payload" jsonb NOT NULL,
	CONSTRAINT "webhook_inbox_webhook_id_unique" UNIQUE("webhook_id")
);
--> statement-breakpoint
CREATE INDEX "activities_contact_idx" ON "activities" USING btree ("contact_id","crm_created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_waiting_entity_uq" ON "jobs" USING btree ("type","entity_id") WHERE "jobs"."state" in ('pending', 'retrying');--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_running_key_uq" ON "jobs" USING btree ("serial_key") WHERE "jobs"."state" = 'running';--> statement-breakpoint
CREATE INDEX "jobs_active_key_idx" ON "jobs" USING btree ("serial_key","id") WHERE "jobs"."state" in ('pending', 'retrying', 'running');--> statement-breakpoint
CREATE INDEX "jobs_failed_idx" ON "jobs" USING btree ("failed_at") WHERE "jobs"."state" in ('retrying', 'dead');