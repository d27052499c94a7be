import { sql } from 'drizzle-orm'
import type { Database } from '../src/db/database.js'

/** The database's refusal as the driver wraps it (for `t.match` on the error). */
export const LINK_REFUSED = { cause: { message: /link refused by the test/ } }

/**
 * Makes the database refuse to store a Pipedrive person id for the contacts a test names: "the
 * create worked, storing its link failed". A trigger in the test's own schema (or PGlite).
 */
export async function refusedLinks(db: Database) {
  await db.execute(sql`create table refused_links (contact_id text primary key)`)
  await db.execute(sql`
    create function refuse_link() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from refused_links where contact_id = new.id) then
        raise exception 'link refused by the test';
      end if;
      return new;
    end $$`)
  await db.execute(sql`
    create trigger refuse_link before update of pipedrive_person_id on contacts
    for each row when (new.pipedrive_person_id is not null) execute function refuse_link()`)
  return {
    refuse: (contactId: string) => db.execute(sql`insert into refused_links values (${contactId})`),
    allow: (contactId: string) => db.execute(sql`delete from refused_links where contact_id = ${contactId}`)
  }
}
