-- wrk script for bench/load.py: one GraphQL operation per request, as one signed-in user.
--
-- Settings come from the environment (wrk passes no other way into every thread):
--   TODO_BENCH_USERS      file of users, one "<user> <bearer token>" per line: request k of
--                         thread i is sent as line (k * threads + i) mod n, so every user
--                         gets an equal share
--   TODO_BENCH_OPERATION  create | create_recurring | update | complete | list | search, or
--                         floor_create | floor_list: the same create and list from the floor
--                         (bench/floor.py: POST /create, POST /list, the user in x-user)
--   TODO_BENCH_IDS        file of task ids (update, complete): thread i of n takes lines
--                         i, i+n, i+2n, ... so no two requests complete the same task
--   TODO_BENCH_SAVE_IDS   file prefix: created ids go to <prefix>.<thread> (create*)
-- The number of threads is the script's first argument (`wrk ... -- <threads>`).
-- A response that is not 200, carries GraphQL "errors" or a mutation payload's non-empty
-- "userErrors" (a refused input is data, not an error: docs/guide.md#mutations) counts as an error.

local users_path = os.getenv("TODO_BENCH_USERS")
local operation = os.getenv("TODO_BENCH_OPERATION")
local ids_path = os.getenv("TODO_BENCH_IDS")
local save_prefix = os.getenv("TODO_BENCH_SAVE_IDS")
local words = { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
                "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa" }

-- Every mutation selects its userErrors, so that a refused input is counted (below).
local USER_ERRORS = "userErrors { field message code }"
local CREATE = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } " .. USER_ERRORS .. " } }"

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_count = tonumber(args[1]) or 1
  sent = 0
  errors = 0
  last_error = ""
  ids = {}
  if ids_path then
    local line_number = 0
    for line in io.lines(ids_path) do
      if line_number % thread_count == thread_index then
        ids[#ids + 1] = line
      end
      line_number = line_number + 1
    end
  end
  if save_prefix then
    saved = io.open(save_prefix .. "." .. thread_index, "w")
  end
  users = {}
  for line in io.lines(users_path) do
    local user, token = string.match(line, "^(%S+) (%S+)$")
    users[#users + 1] = { user = user, token = token }
  end
  wrk.method = "POST"
end

local function body(query, variables)
  return '{"query":"' .. query .. '","variables":' .. variables .. '}'
end

local function next_id()
  local id = ids[(sent % #ids) + 1]
  return id
end

function request()
  local caller = users[((sent * thread_count + thread_index) % #users) + 1]
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. caller.token,
    ["x-user"] = caller.user,
  }
  sent = sent + 1
  local word = words[(sent + thread_index) % #words + 1]
  local title = string.format("load %d %d %s", thread_index, sent, word)
  local payload
  if operation == "create" then
    payload = body(CREATE,
      '{"i":{"title":"' .. title .. '","tags":["load"],"dueAt":"2031-01-01T09:00:00Z"}}')
  elseif operation == "create_recurring" then
    payload = body(CREATE,
      '{"i":{"title":"' .. title .. '","tags":["daily"],"dueAt":"2031-01-01T09:00:00Z",'
      .. '"recurrence":"every day","remindMinutesBefore":[10]}}')
  elseif operation == "update" then
    payload = body("mutation($i: UpdateTaskInput!) { updateTask(input: $i) { task { id version } " .. USER_ERRORS .. " } }",
      '{"i":{"id":"' .. next_id() .. '","title":"' .. title .. '"}}')
  elseif operation == "complete" then
    payload = body("mutation($id: ID!) { completeTask(input: {id: $id}) { task { id status } " .. USER_ERRORS .. " } }",
      '{"id":"' .. next_id() .. '"}')
  elseif operation == "list" then
    payload = body("query($f: TaskFilter) { tasks(first: 50, filter: $f) { edges { node { id title dueAt priority tags } } pageInfo { hasNextPage endCursor } } }",
      '{"f":{"status":"OPEN","tags":["load"]}}')
  elseif operation == "search" then
    payload = body("query($f: TaskFilter) { tasks(first: 20, filter: $f) { edges { node { id title } } } }",
      '{"f":{"search":"' .. word .. '"}}')
  elseif operation == "floor_create" then
    return wrk.format(nil, "/create", headers,
      '{"title":"' .. title .. '","tags":["load"],"dueAt":"2031-01-01T09:00:00+00:00"}')
  elseif operation == "floor_list" then
    return wrk.format(nil, "/list", headers, '{"tags":["load"]}')
  else
    error("unknown TODO_BENCH_OPERATION " .. tostring(operation))
  end
  return wrk.format(nil, "/graphql", headers, payload)
end

function response(status, headers, response_body)
  -- The gateway answers compact JSON: an empty list is "userErrors":[] and a refusal
  -- "userErrors":[{...}].
  if status ~= 200 or string.find(response_body, '"errors"', 1, true)
      or string.find(response_body, '"userErrors":[{', 1, true) then
    errors = errors + 1
    last_error = string.sub(response_body, 1, 300)
    return
  end
  if saved then
    local id = string.match(response_body, '"id":"([^"]+)"')
    if id then
      saved:write(id, "\n")
      saved:flush()
    end
  end
end

function done(summary, latency, requests)
  local failed = 0
  local example = ""
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
    local last = thread:get("last_error")
    if last ~= "" then example = string.gsub(last, "%c", " ") end
  end
  local socket = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"errors":%d,"connect_errors":%d,'
    .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,"non_2xx":%d,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"example_error":%q}\n',
    summary.requests, summary.duration, failed, socket.connect, socket.read, socket.write,
    socket.timeout, socket.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, example))
end
