-- An order's lines move into the order's row: `lines` is a JSON array of `[line_id, sku, quantity,
-- unit_price_micros]` arrays in stored order. Every read of an order wants all of its lines and nothing
-- reads a line alone, and the lines change only with their order; as a table of their own, every page of
-- orders needed a second statement, a join and an index search per order (about half of an order page's
-- cost on the load bench). Line ids stay unique within their order: the store checks that before it writes.
ALTER TABLE orders ADD COLUMN lines TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(lines) AND json_type(lines) = 'array');

UPDATE orders SET lines = (
    SELECT json_group_array(json_array(l.line_id, l.sku, l.quantity, l.unit_price_micros) ORDER BY l.position)
    FROM order_lines l
    WHERE l.tenant_id = orders.tenant_id AND l.account_key = orders.account_key AND l.order_id = orders.order_id
);

DROP TABLE order_lines;
