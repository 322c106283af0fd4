CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`email` text,
	`state` text NOT NULL,
	`state_since` integer NOT NULL,
	`phone` text,
	`lid` text,
	`push_name` text,
	`last_disconnect_code` integer,
	`last_disconnect_reason` text,
	`last_disconnect_at` integer,
	`stopped` integer DEFAULT false NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `contacts` (
	`account_id` text NOT NULL,
	`phone` text NOT NULL,
	`saved_name` text,
	`push_name` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `phone`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `kv` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `lid_mappings` (
	`account_id` text NOT NULL,
	`lid` text NOT NULL,
	`phone` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `lid`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `lid_mappings_phone` ON `lid_mappings` (`account_id`,`phone`);--> statement-breakpoint
CREATE TABLE `media` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`message_rowid` integer NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`path` text,
	`mime_type` text,
	`file_name` text,
	`file_size` integer,
	`error` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`message_rowid`) REFERENCES `messages`(`rowid`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `media_message` ON `media` (`message_rowid`);--> statement-breakpoint
CREATE INDEX `media_due` ON `media` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `wa_creds` (
	`account_id` text PRIMARY KEY NOT NULL,
	`data` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `wa_groups` (
	`account_id` text NOT NULL,
	`jid` text NOT NULL,
	`subject` text,
	`participants` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `jid`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `wa_keys` (
	`account_id` text NOT NULL,
	`type` text NOT NULL,
	`id` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`account_id`, `type`, `id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
