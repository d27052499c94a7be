CREATE TABLE "callback_outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "callback_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"webhook_id" text NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"gave_up_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "callback_outbox_webhook_id_unique" UNIQUE("webhook_id")
);
--> statement-breakpoint
CREATE TABLE "rate_pauses" (
	"token_key" text PRIMARY KEY NOT NULL,
	"paused_until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_slots" (
	"token_key" text NOT NULL,
	"kind" text NOT NULL,
	"slot" integer NOT NULL,
	"used_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rate_slots_token_key_kind_slot_pk" PRIMARY KEY("token_key","kind","slot")
);
--> statement-breakpoint
CREATE INDEX "callback_outbox_due_idx" ON "callback_outbox" USING btree ("next_attempt_at") WHERE "callback_outbox"."delivered_at" is null and "callback_outbox"."gave_up_at" is null;