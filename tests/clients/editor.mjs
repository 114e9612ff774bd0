// An editor's app, twice: masto.js (the library of Elk and Phanpy) and megalodon (Whalebird's), unmodified from
// npm, against the server at argv[2] with the token argv[3] and the PNG file argv[4]. Each signs in with the
// token, reads the instance and the account, uploads an image with alt text, posts, edits and deletes, and
// reads the notifications; what it saw is printed as one JSON object for the Python test to check.
// Run by tests/bridge/web/test_api_clients_node.py; install with tests/clients/install.sh.
import { readFile } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { createRestAPIClient } from "masto";
import megalodon from "megalodon";

// megalodon is CommonJS: its default export (`generator`) arrives as `default.default` in an ES module.
const generator = megalodon.default;
const { detector } = megalodon;

const [url, accessToken, imagePath] = process.argv.slice(2);

async function withMasto() {
  const masto = createRestAPIClient({ url, accessToken });
  const instance = await masto.v2.instance.fetch();
  const me = await masto.v1.accounts.verifyCredentials();
  const file = new Blob([await readFile(imagePath)], { type: "image/png" });
  const media = await masto.v2.media.create({ file, description: "Ein rotes Rechteck (masto.js)" });
  const posted = await masto.v1.statuses.create({ status: "Hallo aus masto.js", mediaIds: [media.id] });
  const edited = await masto.v1.statuses.$select(posted.id).update({
    status: "Hallo aus masto.js, korrigiert", mediaIds: [media.id] });
  const history = await masto.v1.statuses.$select(posted.id).history.list();
  const notifications = await masto.v1.notifications.list();
  await masto.v1.statuses.$select(posted.id).remove();
  let gone = null;
  try {
    await masto.v1.statuses.$select(posted.id).fetch();
  } catch (error) {
    gone = error.statusCode ?? String(error);
  }
  return { title: instance.title, characters: instance.configuration.statuses.maxCharacters, acct: me.acct,
           media: media.description, posted: posted.content, images: posted.mediaAttachments.length,
           edited: edited.content, editedAt: edited.editedAt, history: history.length,
           notifications: notifications.length, gone };
}

async function withMegalodon() {
  const sns = await detector(url);
  const client = generator(sns, url, accessToken);
  const instance = await client.getInstance();
  const me = await client.verifyAccountCredentials();
  const media = await client.uploadMedia(createReadStream(imagePath), { description: "Ein rotes Rechteck (megalodon)" });
  const posted = await client.postStatus("Hallo aus megalodon", { media_ids: [media.data.id] });
  const edited = await client.editStatus(posted.data.id, { status: "Hallo aus megalodon, korrigiert",
                                                          media_ids: [media.data.id] });
  const notifications = await client.getNotifications();
  await client.deleteStatus(posted.data.id);
  let gone = null;
  try {
    await client.getStatus(posted.data.id);
  } catch (error) {
    gone = error.response?.status ?? String(error);
  }
  return { sns, title: instance.data.title, acct: me.data.acct, media: media.data.description,
           posted: posted.data.content, images: posted.data.media_attachments.length, edited: edited.data.content,
           notifications: notifications.data.length, gone };
}

const result = {};
for (const [name, run] of [["masto", withMasto], ["megalodon", withMegalodon]]) {
  try {
    result[name] = await run();
  } catch (error) {
    result[name] = { error: String(error?.stack ?? error) };
  }
}
console.log(JSON.stringify(result));
