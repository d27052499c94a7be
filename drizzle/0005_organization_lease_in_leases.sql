ALTER TABLE "organizations" DROP COLUMN "creating_until";--> statement-breakpoint
ALTER TABLE "organizations" DROP COLUMN "creating_token";