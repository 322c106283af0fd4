CREATE TABLE `backfill_older` (
	`backfill_id` text NOT NULL,
	`chat_id` text NOT NULL,
	`wanted` integer NOT NULL,
	`received` integer DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`state` text NOT NULL,
	`request_id` text,
	`requested_at` integer,
	PRIMARY KEY(`backfill_id`, `chat_id`),
	FOREIGN KEY (`backfill_id`) REFERENCES `backfills`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `backfill_older_request` ON `backfill_older` (`request_id`);--> statement-breakpoint
CREATE TABLE `backfills` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`state` text NOT NULL,
	`auto` integer DEFAULT false NOT NULL,
	`webhook_ids` text NOT NULL,
	`chat_ids` text,
	`since` integer,
	`until` integer,
	`older_per_chat` integer,
	`rate_per_s` integer NOT NULL,
	`redeliver` integer DEFAULT false NOT NULL,
	`min_rowid` integer DEFAULT 0 NOT NULL,
	`max_rowid` integer,
	`plan_after` integer,
	`total` integer,
	`enqueued` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`delivered` integer,
	`failed` integer,
	`cursor_ts` integer,
	`cursor_rowid` integer,
	`exhausted` integer DEFAULT false NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `backfills_account` ON `backfills` (`account_id`,`id`);--> statement-breakpoint
CREATE INDEX `backfills_state` ON `backfills` (`state`);--> statement-breakpoint
DROP INDEX `outbox_status_time`;--> statement-breakpoint
ALTER TABLE `outbox` ADD `backfill_id` text;--> statement-breakpoint
CREATE INDEX `outbox_backfill` ON `outbox` (`backfill_id`,`status`) WHERE backfill_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `outbox_open` ON `outbox` (`webhook_id`,`chat_key`,`seq`) WHERE status IN ('pending', 'in_flight');--> statement-breakpoint
CREATE INDEX `outbox_delivered_time` ON `outbox` (`created_at`) WHERE status = 'delivered';--> statement-breakpoint
CREATE INDEX `messages_account_time` ON `messages` (`account_id`,`timestamp`);