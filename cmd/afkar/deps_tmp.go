package main

import (
	_ "github.com/glebarez/sqlite"
	_ "github.com/google/uuid"
	_ "github.com/jalaali/go-jalaali"
	_ "github.com/kavenegar/kavenegar-go"
	_ "github.com/labstack/echo/v4"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/redis/go-redis/v9"
	_ "gorm.io/driver/postgres"
	_ "gorm.io/gorm"
)

func main() {}
