// Wall-clock times in an IANA zone <-> instants, with the browser's own time zone database.

export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function zoneNames() {
  return typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : ["UTC"];
}

// Milliseconds the zone's wall clock is ahead of UTC at `instant` (ms since the epoch).
function offsetMs(instant, zone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date(instant)).map((part) => [part.type, part.value]),
  );
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

// "2026-12-01T09:00" read in `zone` as an ISO instant; throws RangeError for an unknown zone.
export function zonedToIso(local, zone) {
  const [date, time] = local.split("T");
  const [year, month, day] = date.split("-").map(Number);
  const [hour, minute] = time.split(":").map(Number);
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - offsetMs(wall, zone);
  return new Date(wall - offsetMs(first, zone)).toISOString();
}

// An ISO instant as the "YYYY-MM-DDTHH:MM" a datetime-local input shows, in `zone`.
export function isoToZoned(iso, zone) {
  const instant = Date.parse(iso);
  return new Date(instant + offsetMs(instant, zone)).toISOString().slice(0, 16);
}

export function formatIn(iso, zone) {
  try {
    return new Date(iso).toLocaleString(undefined, { timeZone: zone, dateStyle: "medium", timeStyle: "short" });
  } catch {
    return new Date(iso).toLocaleString();
  }
}
