// The official openai package as a client of metapi: one line per check,
// "ok NAME" or "not ok NAME: why". BASE and KEY come from the environment.
import OpenAI, { toFile } from "openai";

const client = new OpenAI({ baseURL: process.env.BASE + "/v1",
    apiKey: process.env.KEY, maxRetries: 0 });
let failed = 0;
function check(name, cond, why) {
	if (cond) console.log("ok " + name);
	else { failed++; console.log("not ok " + name + ": " + why); }
}

try {
	const models = await client.models.list();
	const ids = models.data.map((m) => m.id);
	check("models", ids.includes("gpt-4o-mini"), JSON.stringify(ids));

	const r = await client.chat.completions.create({ model: "gpt-4o-mini",
	    messages: [{ role: "user", content: "hello fake relay" }] });
	check("chat", r.choices[0].message.content === "echo: hello fake relay",
	    JSON.stringify(r));
	check("chat usage", r.usage && r.usage.prompt_tokens === 3,
	    JSON.stringify(r.usage));

	const stream = await client.chat.completions.create({
	    model: "gpt-4o-mini", stream: true,
	    stream_options: { include_usage: true },
	    messages: [{ role: "user", content: "hello fake relay" }] });
	let text = "", usage = null, chunks = 0;
	for await (const c of stream) {
		chunks++;
		if (c.choices.length > 0 && c.choices[0].delta.content)
			text += c.choices[0].delta.content;
		if (c.usage) usage = c.usage;
	}
	check("chat stream text", text === "echo: hello fake relay", text);
	check("chat stream chunks", chunks >= 4, String(chunks));
	check("chat stream usage", usage && usage.completion_tokens === 4,
	    JSON.stringify(usage));

	const e = await client.embeddings.create({
	    model: "text-embedding-3-small", input: "hello" });
	check("embeddings", e.data.length === 1 &&
	    e.data[0].embedding.length > 0, JSON.stringify(e).slice(0, 200));

	try {
		await client.chat.completions.create({ model: "no-such-model",
		    messages: [{ role: "user", content: "x" }] });
		check("unknown model is an error", false, "no error");
	} catch (err) {
		check("unknown model is a 404", err.status === 404,
		    String(err.status));
	}

	// Files: stored by metapi, inlined into a later request.
	const ftext = "hello from the sdk\n";
	const f = await client.files.create({ purpose: "user_data",
	    file: await toFile(Buffer.from(ftext), "sdk.txt") });
	check("files.create", /^file-/.test(f.id) && f.bytes === ftext.length &&
	    f.filename === "sdk.txt", JSON.stringify(f));
	const fl = await client.files.list();
	check("files.list", fl.data.some((x) => x.id === f.id),
	    JSON.stringify(fl.data));
	const fr = await client.files.retrieve(f.id);
	check("files.retrieve", fr.id === f.id && fr.purpose === "user_data",
	    JSON.stringify(fr));
	const fc = await (await client.files.content(f.id)).text();
	check("files.content", fc === ftext, fc);
	const fu = await client.chat.completions.create({ model: "gpt-4o-mini",
	    messages: [{ role: "user", content: [
	    { type: "text", text: "read this" },
	    { type: "file", file: { file_id: f.id } }] }] });
	check("chat naming a file", fu.choices.length === 1,
	    JSON.stringify(fu));
	const fd = await client.files.del(f.id);
	check("files.del", fd.deleted === true && fd.id === f.id,
	    JSON.stringify(fd));
	try {
		await client.files.retrieve(f.id);
		check("deleted file is gone", false, "no error");
	} catch (err) {
		check("deleted file is a 404", err.status === 404,
		    String(err.status));
	}
} catch (err) {
	failed++;
	console.log("not ok exception: " + err);
}
process.exit(failed ? 1 : 0);
