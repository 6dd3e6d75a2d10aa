module myia.local/standin

go 1.26
