-- The surrogate key goes first: a table has one primary key. In one transaction, so no duplicate can slip in between.
ALTER TABLE "webhook_inbox" DROP COLUMN "id";--> statement-breakpoint
ALTER TABLE "webhook_inbox" DROP CONSTRAINT "webhook_inbox_webhook_id_unique";--> statement-breakpoint
ALTER TABLE "webhook_inbox" ADD PRIMARY KEY ("webhook_id");
