-- Group routes: one name a client requests, served by the channels of
-- several models (each channel still forwards its own upstream model).
-- members is the route's member list as a JSON array of model names,
-- read whole and expanded with json_each() by the route rebuild; NULL
-- for every other route. A column rather than a table of its own: the
-- list belongs to the route row like model_map, is edited whole, and
-- goes with the route.
ALTER TABLE routes ADD COLUMN members TEXT;
